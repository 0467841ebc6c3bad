//! What `hookmeter config` prints: every setting in force, its value and
//! the origin [`Config::resolve`] recorded for it. Nothing here decides a
//! value; it only reads the resolved [`Config`].
//!
//! For users: docs/configuration.md#which-value-applies-and-why-hookmeter-config.
//! The same origins explain a database that is not there
//! ([`Config::missing_database`]): a reading command on a mistyped path
//! must say so, not report that nothing was spent.

use std::fmt::Write as _;
use std::path::Path;

use serde_json::{json, Map, Value};

use super::{Config, Durability, Origin};

/// The database a reading command was pointed at does not exist: its path
/// and what chose it, so the message can say which setting to check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingDatabase {
    pub path: std::path::PathBuf,
    pub origin: Origin,
}

impl MissingDatabase {
    /// Where the path came from, as a user would check it.
    fn chosen_by(&self) -> String {
        match &self.origin {
            Origin::Flag => "from --db".to_string(),
            Origin::Env(var) => format!("from {var}"),
            Origin::File(file) => format!("from db in {}", file.display()),
            // A misspelt variable or flag ends here: say what was not set.
            Origin::Default => {
                "the default: neither --db, TELEMETRY_DB_PATH nor db in the config file is set"
                    .to_string()
            }
        }
    }

    /// The setting to correct when the path is the wrong one.
    fn check(&self) -> String {
        match &self.origin {
            Origin::Flag => "check the --db path".to_string(),
            Origin::Env(var) => format!("check the path in {var}"),
            Origin::File(file) => format!("check db in {}", file.display()),
            Origin::Default => "point --db or TELEMETRY_DB_PATH at the daemon's database".into(),
        }
    }

    /// `tail -f`'s note: it waits for the database rather than failing.
    pub fn waiting(&self) -> String {
        format!(
            "no database at {} yet ({}); waiting for it to appear (`hookmeter serve` creates it)",
            self.path.display(),
            self.chosen_by()
        )
    }
}

/// One line: the path, what chose it, and the two likely fixes.
impl std::fmt::Display for MissingDatabase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "no database at {} ({}); is the daemon running? `hookmeter serve` creates it when it \
             starts; if the daemon writes elsewhere, {}",
            self.path.display(),
            self.chosen_by(),
            self.check()
        )
    }
}

/// The budgets stored in the database (set with `hookmeter budget set`, or
/// copied from a config file by the daemon): the config file's own
/// `[[budgets]]` are not all there is, and `config` must not read as if
/// they were.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoredBudgets {
    /// No database yet: nothing stored.
    NoDatabase,
    Count(usize),
    /// The database is there but could not be read; why.
    Unreadable(String),
}

impl Config {
    /// `Some` when the database does not exist: a reading command then
    /// fails with this rather than print a $0.00 that looks like an answer.
    /// An existing database, even an empty one, is `None`.
    pub fn missing_database(&self) -> Option<MissingDatabase> {
        // Only "not found": a database that cannot be looked at is left to
        // the open, whose error says why.
        let missing = matches!(std::fs::metadata(&self.db),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound);
        missing.then(|| MissingDatabase {
            path: self.db.clone(),
            origin: self.origin_of("db").clone(),
        })
    }

    /// Every setting in display order, by the name its config-file key has
    /// (`limits.idle_timeout_secs`), with its value as JSON. `stored` is what
    /// the database holds besides (see [`StoredBudgets`]).
    fn settings(&self, stored: &StoredBudgets) -> Vec<(&'static str, Value)> {
        let path = |p: &Path| Value::String(p.display().to_string());
        let l = &self.limits;
        let t = &self.transcripts;
        vec![
            ("config_file", path(&self.config_file)),
            ("db", path(&self.db)),
            ("socket", path(&self.socket)),
            ("spool", path(&self.spool)),
            ("http", json!(self.http.as_deref().unwrap_or("off"))),
            ("http.allowed_hosts", json!(self.http_allowed_hosts)),
            ("store_payloads", json!(self.store_payloads.as_str())),
            (
                "durability",
                json!(match self.durability {
                    Durability::Normal => "normal",
                    Durability::Full => "full",
                }),
            ),
            ("limits.max_line_bytes", json!(l.max_line_bytes)),
            ("limits.idle_timeout_secs", json!(l.idle_timeout.as_secs())),
            ("limits.max_connections", json!(l.max_connections)),
            ("limits.spool_max_file_bytes", json!(l.spool_max_file_bytes)),
            ("limits.spool_rescan_secs", json!(l.spool_rescan.as_secs())),
            (
                "limits.shutdown_grace_secs",
                json!(l.shutdown_grace.as_secs()),
            ),
            ("limits.payload_bytes", json!(l.payload_bytes)),
            ("limits.max_prompt_tokens", json!(l.usage.max_prompt_tokens)),
            ("limits.max_output_tokens", json!(l.usage.max_output_tokens)),
            (
                "transcripts.roots",
                Value::Array(t.roots.iter().map(|root| path(root)).collect()),
            ),
            (
                "transcripts.idle_timeout_secs",
                json!(t.idle_timeout.as_secs()),
            ),
            (
                "transcripts.stop_linger_secs",
                json!(t.stop_linger.as_secs()),
            ),
            ("transcripts.watch", t.watch.as_config()),
            ("metrics.max_label_values", json!(self.max_label_values)),
            ("otlp.max_body", json!(self.otlp_max_body)),
            (
                "otlp.grpc",
                json!(self.otlp_grpc.as_deref().unwrap_or("off")),
            ),
            ("statusline.format", json!(self.statusline_format)),
            (
                "push.postgres",
                json!(self
                    .push
                    .url
                    .as_ref()
                    .map_or("off".to_string(), |url| url.redacted())),
            ),
            (
                "push.password_file",
                json!(self
                    .push
                    .password_file
                    .as_ref()
                    .map(|p| p.display().to_string())),
            ),
            ("push.user", json!(self.push.user)),
            ("push.labels", json!(self.push.labels)),
            ("push.batch", json!(self.push.batch)),
            (
                "push.backoff_min_ms",
                json!(self.push.backoff_min.as_millis() as u64),
            ),
            (
                "push.backoff_max_ms",
                json!(self.push.backoff_max.as_millis() as u64),
            ),
            (
                "push.max_delay_ms",
                json!(self.push.max_delay.as_millis() as u64),
            ),
            ("alerts.thresholds", json!(self.alerts.thresholds_pct)),
            (
                "alerts.tz",
                json!(self.alerts.tz_name.as_deref().unwrap_or("(system)")),
            ),
            (
                "alerts.check_secs",
                json!(self.alerts.check_interval.as_secs()),
            ),
            (
                "alerts.command",
                json!(self.alerts.command.clone().unwrap_or_default()),
            ),
            (
                "alerts.command_timeout_secs",
                json!(self.alerts.command_timeout.as_secs()),
            ),
            (
                "alerts.deliver_for_secs",
                json!(self.alerts.deliver_for.as_secs()),
            ),
            (
                "alerts.redeliver_ms",
                json!(self.alerts.redeliver.as_millis() as u64),
            ),
            (
                "alerts.redeliver_max_ms",
                json!(self.alerts.redeliver_max.as_millis() as u64),
            ),
            // The URL is a credential: whether one is set, not which.
            (
                "alerts.webhook",
                json!(match &self.alerts.webhook {
                    Some(hook) => format!(
                        "set (timeout {} s, {} retries)",
                        hook.timeout.as_secs(),
                        hook.retries
                    ),
                    None => "(none)".to_string(),
                }),
            ),
            (
                "budgets",
                json!({
                    "config_file": self.budgets.len(),
                    "database": match stored {
                        StoredBudgets::Count(n) => json!(n),
                        StoredBudgets::NoDatabase | StoredBudgets::Unreadable(_) => Value::Null,
                    },
                }),
            ),
            ("pricing_file", path(&self.pricing_file)),
            (
                "pricing.auto_update",
                json!(self.price_updates.auto.as_str()),
            ),
            ("pricing.update_url", json!(self.price_updates.url)),
        ]
    }

    /// The budgets row: the config file's count and the database's, each
    /// said as what it is.
    fn budgets_shown(&self, stored: &StoredBudgets) -> String {
        let in_file = format!("{} in the config file", self.budgets.len());
        match stored {
            StoredBudgets::Count(n) => format!("{in_file}, {n} in the database"),
            StoredBudgets::NoDatabase => format!("{in_file}, database not created yet"),
            StoredBudgets::Unreadable(why) => {
                format!("{in_file}, database not readable ({why})")
            }
        }
    }

    fn origin_of(&self, name: &str) -> &Origin {
        // resolve records every setting `settings` lists (a unit test holds
        // the two lists together); a gap would only mislabel, not mislead.
        self.origins.get(name).unwrap_or(&Origin::Default)
    }

    /// `hookmeter config --json`: an object keyed by setting name, each
    /// `{"value", "origin": "flag"|"env"|"file"|"default", "detail"}` where
    /// detail is the variable's name, the file's path, or null. `budgets`
    /// is `{"config_file": N, "database": M}`, M null when there is no
    /// database to count in (its origin is that of the config file's part).
    /// `stored` is what the database holds besides (`budget::stored` reads
    /// it: this module reads no database).
    pub fn describe_json_with(&self, stored: &StoredBudgets) -> Value {
        let mut out = Map::new();
        for (name, value) in self.settings(stored) {
            let origin = self.origin_of(name);
            out.insert(
                name.to_string(),
                json!({"value": value, "origin": origin.kind(), "detail": origin.detail()}),
            );
        }
        Value::Object(out)
    }

    /// `hookmeter config`: one aligned line per setting, then a note for a
    /// config or pricing file that does not exist (so a user can tell
    /// "defaults because the file says nothing" from "defaults because the
    /// file was never there").
    /// `stored` as for [`Config::describe_json_with`].
    pub fn describe_with(&self, stored: &StoredBudgets) -> String {
        let rows: Vec<[String; 3]> = self
            .settings(stored)
            .into_iter()
            .map(|(name, value)| {
                let shown = match value {
                    _ if name == "budgets" => self.budgets_shown(stored),
                    Value::String(text) => text,
                    Value::Array(items) if items.is_empty() => "(none)".to_string(),
                    Value::Array(items) => items
                        .iter()
                        .map(|item| item.as_str().map_or_else(|| item.to_string(), String::from))
                        .collect::<Vec<_>>()
                        .join(", "),
                    other => other.to_string(),
                };
                [name.to_string(), shown, self.origin_of(name).to_string()]
            })
            .collect();
        // Values are shown whole (paths are copied from here): the table
        // is as wide as they make it.
        let mut table = crate::present::Table::new()
            .fixed("setting")
            .fixed("value")
            .fixed("origin");
        for row in rows {
            table.row(row);
        }
        let mut out = table.render(None);
        out.push_str("\nPrecedence: flag > environment > config file > default.\n");
        if !self.config_file.exists() {
            let _ = writeln!(
                out,
                "The config file {} does not exist; nothing was read from it.",
                self.config_file.display()
            );
        }
        if !self.pricing_file.exists() {
            let _ = writeln!(
                out,
                "The pricing file {} does not exist; the built-in prices apply (see `hookmeter pricing import`).",
                self.pricing_file.display()
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::super::tests::env_of;
    use super::super::Overrides;
    use super::*;

    #[test]
    fn every_setting_shown_has_a_recorded_origin_and_no_origin_is_left_out() {
        let c = Config::resolve(&Overrides::default(), &env_of(&[("HOME", "/h")])).unwrap();
        let shown: BTreeSet<&str> = c
            .settings(&StoredBudgets::NoDatabase)
            .iter()
            .map(|(name, _)| *name)
            .collect();
        let recorded: BTreeSet<&str> = c.origins.keys().copied().collect();
        assert_eq!(shown, recorded);
    }

    #[test]
    fn json_has_value_origin_and_detail_for_each_setting() {
        let env = env_of(&[("HOME", "/h"), ("TELEMETRY_DB_PATH", "/env.db")]);
        let flags = Overrides {
            spool: Some("/flag-spool".into()),
            ..Default::default()
        };
        let c = Config::resolve(&flags, &env).unwrap();
        let json = c.describe_json_with(&StoredBudgets::NoDatabase);
        assert_eq!(
            json["db"],
            json!({"value": "/env.db", "origin": "env", "detail": "TELEMETRY_DB_PATH"})
        );
        assert_eq!(
            json["spool"],
            json!({"value": "/flag-spool", "origin": "flag", "detail": null})
        );
        assert_eq!(json["limits.max_connections"]["origin"], "default");
        assert!(json["limits.max_connections"]["value"].is_u64());
        assert!(json["transcripts.roots"]["value"].is_array());
        assert_eq!(json["transcripts.watch"]["value"], true);
        for (_, setting) in json.as_object().unwrap() {
            let keys: Vec<&str> = setting
                .as_object()
                .unwrap()
                .keys()
                .map(String::as_str)
                .collect();
            assert_eq!(keys, ["detail", "origin", "value"]);
        }
    }

    #[test]
    fn a_missing_database_says_what_chose_its_path_and_what_to_check() {
        let dir = tempfile::tempdir().unwrap();
        let there = dir.path().join("there.db");
        std::fs::write(&there, b"").unwrap();
        let resolve = |flag: Option<&Path>, env: &[(&str, &str)]| {
            let flags = Overrides {
                db: flag.map(Path::to_path_buf),
                ..Default::default()
            };
            let mut pairs = vec![("HOME", "/h")];
            pairs.extend_from_slice(env);
            Config::resolve(&flags, &env_of(&pairs)).unwrap()
        };
        // An existing file, even an empty one, is not missing.
        assert_eq!(resolve(Some(&there), &[]).missing_database(), None);

        let line = |c: Config| c.missing_database().unwrap().to_string();
        let flag = line(resolve(Some(Path::new("/no/such.db")), &[]));
        assert!(
            flag.starts_with("no database at /no/such.db (from --db); is the daemon running?"),
            "{flag}"
        );
        assert!(flag.ends_with("check the --db path"), "{flag}");
        let env = line(resolve(None, &[("TELEMETRY_DB_PATH", "/no/telemetri.db")]));
        assert!(env.contains("(from TELEMETRY_DB_PATH)"), "{env}");
        assert!(
            env.ends_with("check the path in TELEMETRY_DB_PATH"),
            "{env}"
        );
        let default = line(resolve(None, &[]));
        assert!(
            default.starts_with("no database at /h/.local/state/hookmeter/telemetry.db (the default: neither --db, TELEMETRY_DB_PATH nor db in the config file is set)"),
            "{default}"
        );
        for text in [&flag, &env, &default] {
            assert!(text.contains("`hookmeter serve` creates it"), "{text}");
            assert_eq!(text.lines().count(), 1);
        }
        let missing = resolve(Some(Path::new("/no/such.db")), &[])
            .missing_database()
            .unwrap();
        assert_eq!(
            missing.waiting(),
            "no database at /no/such.db yet (from --db); waiting for it to appear (`hookmeter serve` creates it)"
        );
    }

    #[test]
    fn budgets_are_counted_in_the_file_and_in_the_database() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = dir.path().join("config.toml");
        std::fs::write(&cfg, "[[budgets]]\ndaily = 10\n").unwrap();
        let env = env_of(&[("HOME", "/h"), ("HOOKMETER_CONFIG", cfg.to_str().unwrap())]);
        let c = Config::resolve(&Overrides::default(), &env).unwrap();
        let row = |stored: &StoredBudgets| {
            c.describe_with(stored)
                .lines()
                .find(|l| l.starts_with("budgets "))
                .unwrap()
                .to_string()
        };
        let counted = row(&StoredBudgets::Count(3));
        assert!(
            counted.contains("1 in the config file, 3 in the database"),
            "{counted}"
        );
        assert!(
            counted.ends_with(&format!("file {}", cfg.display())),
            "{counted}"
        );
        assert!(row(&StoredBudgets::NoDatabase)
            .contains("1 in the config file, database not created yet"));
        assert!(row(&StoredBudgets::Unreadable("locked".into()))
            .contains("database not readable (locked)"));
        let json = c.describe_json_with(&StoredBudgets::Count(3));
        assert_eq!(
            json["budgets"]["value"],
            json!({"config_file": 1, "database": 3})
        );
        let json = c.describe_json_with(&StoredBudgets::NoDatabase);
        assert_eq!(
            json["budgets"]["value"],
            json!({"config_file": 1, "database": null})
        );
        // Reading a database that is not there creates nothing.
        let db = dir.path().join("telemetry.db");
        assert_eq!(
            crate::budget::stored_budgets(&db),
            StoredBudgets::NoDatabase
        );
        assert!(!db.exists());
    }

    #[test]
    fn text_has_one_aligned_line_per_setting() {
        let c = Config::resolve(&Overrides::default(), &env_of(&[("HOME", "/h")])).unwrap();
        let text = c.describe_with(&StoredBudgets::NoDatabase);
        let table: Vec<&str> = text.lines().take_while(|l| !l.is_empty()).collect();
        assert_eq!(
            table.len(),
            2 + c.settings(&StoredBudgets::NoDatabase).len(),
            "header, rule, settings"
        );
        let value_column = table[0].find("value").unwrap();
        assert!(table[1].starts_with('─'), "{text}");
        for line in &table[2..] {
            assert_eq!(&line[value_column - 2..value_column], "  ", "{line}");
            assert_ne!(&line[value_column..value_column + 1], " ", "{line}");
        }
        assert!(text.contains("does not exist"), "{text}");
    }
}
