//! A throwaway PostgreSQL cluster for the tests of the central database
//! (`push`, `report --team`): Debian's PostgreSQL binaries (`initdb`,
//! `pg_ctl`) in a temp dir, on a free loopback port, as the `postgres`
//! user when the tests run as root. Without those binaries a test says so
//! and passes, except under CI, where it must run.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Command, Output};

/// The superuser of the throwaway cluster and its password: the password
/// travels in the push URL, and must never be shown.
pub const USER: &str = "hm";
pub const PASSWORD: &str = "pw-Zq81xT";

/// A PostgreSQL cluster in a temp dir, stopped when dropped.
pub struct Cluster {
    pub bin: PathBuf,
    pub dir: tempfile::TempDir,
    pub port: u16,
    /// `runuser -u postgres --` when running as root.
    pub as_user: Option<&'static str>,
}

/// Where Debian puts PostgreSQL's server binaries (the newest version).
fn postgres_bin() -> Option<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| Some(e.ok()?.path().join("bin")))
        .filter(|bin| bin.join("initdb").exists() && bin.join("pg_ctl").exists())
        .collect();
    found.sort();
    found.pop()
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

fn has_user(name: &str) -> bool {
    Command::new("id")
        .arg("-u")
        .arg(name)
        .output()
        .is_ok_and(|o| o.status.success())
}

impl Cluster {
    /// A started cluster, or `None` (said on stdout) when this machine
    /// cannot run one; under CI that is a failure.
    pub fn start() -> Option<Cluster> {
        Self::start_with(false)
    }

    /// With `tls`: TLS on (a certificate for `localhost` signed by the
    /// test's own CA, `ca.pem` in the cluster's dir), and only TLS
    /// connections accepted over TCP.
    pub fn start_with(tls: bool) -> Option<Cluster> {
        let why_not = match postgres_bin() {
            None => Some("no PostgreSQL server binaries under /usr/lib/postgresql (Debian package postgresql)"),
            Some(_) if is_root() && !has_user("postgres") => {
                Some("running as root and there is no postgres user to run the server as")
            }
            Some(_) if tls && Command::new("openssl").arg("version").output().is_err() => {
                Some("openssl is not on PATH to make the test certificates")
            }
            Some(_) => None,
        };
        if let Some(why) = why_not {
            assert!(
                std::env::var_os("CI").is_none(),
                "{why}, and CI is set: CI must install PostgreSQL"
            );
            println!("push tests not run: {why}");
            return None;
        }
        let bin = postgres_bin().unwrap();
        let dir = tempfile::Builder::new().prefix("hmpg").tempdir().unwrap();
        let as_user = is_root().then_some("postgres");
        std::fs::write(dir.path().join("pw"), PASSWORD).unwrap();
        if let Some(user) = as_user {
            let status = Command::new("chown")
                .args(["-R", user])
                .arg(dir.path())
                .status()
                .unwrap();
            assert!(status.success());
        }
        let port = free_port();
        let cluster = Cluster {
            bin,
            dir,
            port,
            as_user,
        };
        let data = cluster.data();
        if tls {
            make_certificates(cluster.dir.path());
        }
        cluster.run(
            "initdb",
            &[
                "-D",
                data.to_str().unwrap(),
                "-U",
                USER,
                "--auth=scram-sha-256",
                "--pwfile",
                cluster.dir.path().join("pw").to_str().unwrap(),
                "--no-sync",
            ],
        );
        if tls {
            let conf = data.join("postgresql.conf");
            let mut text = std::fs::read_to_string(&conf).unwrap();
            text.push_str(&format!(
                "\nssl = on\nssl_cert_file = '{0}/server.crt'\nssl_key_file = '{0}/server.key'\n",
                cluster.dir.path().display()
            ));
            std::fs::write(&conf, text).unwrap();
            let hba = data.join("pg_hba.conf");
            let text = std::fs::read_to_string(&hba)
                .unwrap()
                .lines()
                .map(|l| match l.strip_prefix("host ") {
                    Some(rest) => format!("hostssl {rest}"),
                    None => l.to_string(),
                })
                .collect::<Vec<_>>()
                .join("\n");
            std::fs::write(&hba, text + "\n").unwrap();
        }
        cluster.pg_ctl_start();
        Some(cluster)
    }

    pub fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    pub fn command(&self, program: &str) -> Command {
        let path = self.bin.join(program);
        match self.as_user {
            Some(user) => {
                let mut cmd = Command::new("runuser");
                cmd.args(["-u", user, "--"]).arg(path);
                cmd
            }
            None => Command::new(path),
        }
    }

    pub fn run(&self, program: &str, args: &[&str]) -> Output {
        let out = self.command(program).args(args).output().unwrap();
        assert!(
            out.status.success(),
            "{program} {args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    pub fn pg_ctl_start(&self) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port,
            self.dir.path().display()
        );
        self.run(
            "pg_ctl",
            &[
                "-D",
                self.data().to_str().unwrap(),
                "-o",
                &options,
                "-l",
                self.dir.path().join("log").to_str().unwrap(),
                "-w",
                "start",
            ],
        );
    }

    pub fn stop(&self) {
        self.run(
            "pg_ctl",
            &[
                "-D",
                self.data().to_str().unwrap(),
                "-m",
                "fast",
                "-w",
                "stop",
            ],
        );
    }

    pub fn url(&self) -> String {
        format!(
            "postgres://{USER}:{PASSWORD}@127.0.0.1:{}/postgres?sslmode=disable",
            self.port
        )
    }

    /// One value (or rows joined by newlines) of `sql`, by psql.
    pub fn sql(&self, sql: &str) -> String {
        let out = Command::new(self.bin.join("psql"))
            .env("PGSSLMODE", "prefer")
            .args(["-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1"])
            .args([
                "-p",
                &self.port.to_string(),
                "-U",
                USER,
                "-d",
                "postgres",
                "-c",
                sql,
            ])
            .env("PGPASSWORD", PASSWORD)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "psql {sql}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    }
}

/// A CA (`ca.pem`) and a server certificate for `localhost` it signed
/// (`server.crt`, `server.key`), in `dir`, readable by whoever owns `dir`.
fn make_certificates(dir: &std::path::Path) {
    let openssl = |args: &[&str]| {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    std::fs::write(
        dir.join("ext"),
        "subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\n",
    )
    .unwrap();
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-subj",
        "/CN=hookmeter test CA",
        "-days",
        "2",
    ]);
    openssl(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        "-subj",
        "/CN=localhost",
    ]);
    openssl(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.crt",
        "-days",
        "2",
        "-extfile",
        "ext",
    ]);
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(
        dir.join("server.key"),
        std::fs::Permissions::from_mode(0o600),
    )
    .unwrap();
    if is_root() && has_user("postgres") {
        let status = Command::new("chown")
            .args(["-R", "postgres"])
            .arg(dir)
            .status()
            .unwrap();
        assert!(status.success());
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = self
            .command("pg_ctl")
            .args([
                "-D",
                self.data().to_str().unwrap(),
                "-m",
                "immediate",
                "stop",
            ])
            .output();
    }
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
