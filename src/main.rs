//! The `hookmeter` command line: parses flags, resolves the configuration
//! once, and hands off to the library. No logic lives here.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};

use hookmeter::config::{Config, Overrides};
use hookmeter::ingest::import::Sources;
use hookmeter::send::{self, Attribution, Delivery};

#[derive(Parser)]
#[command(
    name = "hookmeter",
    version,
    about = "Exact, live cost of your coding agents, from their hook events."
)]
struct Cli {
    /// Config file [env: HOOKMETER_CONFIG] [default: $XDG_CONFIG_HOME/hookmeter/config.toml]
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Database [env: TELEMETRY_DB_PATH] [default: $XDG_STATE_HOME/hookmeter/telemetry.db]
    #[arg(long, global = true, value_name = "FILE")]
    db: Option<PathBuf>,
    /// Unix socket [env: HOOKMETER_SOCKET] [default: $XDG_RUNTIME_DIR/hookmeter/hookmeter.sock]
    #[arg(long, global = true, value_name = "PATH")]
    socket: Option<PathBuf>,
    /// Spool directory [env: HOOKMETER_SPOOL] [default: $XDG_STATE_HOME/hookmeter/spool]
    #[arg(long, global = true, value_name = "DIR")]
    spool: Option<PathBuf>,
    /// HTTP API listen address, or off [env: HOOKMETER_HTTP] [default: 127.0.0.1:7717]
    #[arg(long, global = true, value_name = "ADDR")]
    http: Option<String>,
    /// Log format on stderr; the level comes from RUST_LOG (default info)
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Run the daemon in the foreground (socket + spool + POST /hook -> telemetry.db; HTTP API)
    Serve,
    /// Hook client: deliver one hook payload from stdin; always exits 0, prints nothing on stdout
    Send {
        /// Agent that produced the event [env: HOOKMETER_AGENT]
        #[arg(long)]
        agent: Option<String>,
        /// Task the event belongs to [env: HOOKMETER_TASK]
        #[arg(long)]
        task: Option<String>,
        /// Label KEY=VALUE, repeatable [env: HOOKMETER_LABELS=k=v,k2=v2]
        #[arg(long = "label", value_name = "KEY=VALUE", value_parser = parse_label)]
        labels: Vec<(String, String)>,
    },
    /// Load Claude Code transcripts into the database (default: every transcript root); safe to repeat
    Import {
        /// Transcript files or directories [default: ~/.claude/projects, ~/.config/claude/projects, $CLAUDE_CONFIG_DIR/projects (comma-separated)]
        paths: Vec<PathBuf>,
    },
    /// Show the price table and how a model name is priced
    Pricing {
        #[command(subcommand)]
        command: PricingCommand,
    },
}

#[derive(Subcommand)]
enum PricingCommand {
    /// Every entry in force (embedded defaults, pricing.toml, COST_PRICING_* overrides)
    List,
    /// Which entry prices MODEL, how it matched, its rates and their source
    Check { model: String },
}

fn parse_label(text: &str) -> Result<(String, String), String> {
    match send::parse_labels(text)?.as_slice() {
        [one] => Ok(one.clone()),
        _ => Err("expected one KEY=VALUE".into()),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let flags = Overrides {
        config: cli.config.clone(),
        db: cli.db.clone(),
        socket: cli.socket.clone(),
        spool: cli.spool.clone(),
        http: cli.http.clone(),
    };
    let env = |name: &str| std::env::var(name).ok();
    // `send` runs inside an agent's hook: it must never fail the hook.
    if let Command::Send {
        agent,
        task,
        labels,
    } = cli.command
    {
        run_send(&flags, agent, task, labels);
        return ExitCode::SUCCESS;
    }
    let config = match Config::resolve(&flags, &env) {
        Ok(config) => config,
        Err(e) => return fail(&e.to_string()),
    };
    match cli.command {
        Command::Serve => {
            init_logging(cli.log_format);
            let runtime = match tokio::runtime::Runtime::new() {
                Ok(rt) => rt,
                Err(e) => return fail(&format!("cannot start the runtime: {e}")),
            };
            match runtime.block_on(hookmeter::daemon::serve(config)) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) if e.is::<hookmeter::http::ListenError>() => fail(&e.to_string()),
                Err(e) => {
                    tracing::error!(error = format!("{e:#}"), "hookmeter cannot run.");
                    ExitCode::FAILURE
                }
            }
        }
        Command::Pricing { command } => {
            let table = match hookmeter::daemon::load_prices(&config) {
                Ok(table) => table,
                Err(e) => return fail(&format!("{e:#}")),
            };
            match command {
                PricingCommand::List => print!("{}", hookmeter::pricing::render_list(&table)),
                PricingCommand::Check { model } => {
                    print!("{}", hookmeter::pricing::render_check(&table, &model))
                }
            }
            ExitCode::SUCCESS
        }
        Command::Import { paths } => run_import(config, paths),
        Command::Send { .. } => unreachable!("handled above"),
    }
}

fn run_send(
    flags: &Overrides,
    agent: Option<String>,
    task: Option<String>,
    labels: Vec<(String, String)>,
) {
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    // A broken config file must not cost the event: fall back to flags,
    // environment and defaults, which is where hooks usually set things anyway.
    let config = match Config::resolve(flags, &env) {
        Ok(config) => config,
        Err(e) => match Config::resolve_without_file(flags, &env) {
            Ok(config) => {
                eprintln!("hookmeter send: {e}; using flags, environment and defaults");
                config
            }
            Err(e) => {
                eprintln!("hookmeter send: {e}; event not delivered");
                return;
            }
        },
    };
    let mut who = Attribution {
        agent_id: agent.or_else(|| env("HOOKMETER_AGENT")),
        task_id: task.or_else(|| env("HOOKMETER_TASK")),
        ..Default::default()
    };
    if let Some(text) = env("HOOKMETER_LABELS") {
        match send::parse_labels(&text) {
            Ok(pairs) => who.labels.extend(pairs),
            Err(e) => eprintln!("hookmeter send: HOOKMETER_LABELS ignored: {e}"),
        }
    }
    who.labels.extend(labels);
    let budget = env("HOOKMETER_SEND_TIMEOUT_MS")
        .and_then(|ms| ms.parse().ok())
        .map(Duration::from_millis)
        .unwrap_or(send::DEFAULT_BUDGET);
    match send::send(&config, &who, std::io::stdin().lock(), budget) {
        Delivery::Acked | Delivery::Empty | Delivery::Spooled { .. } => {}
        Delivery::Rejected(reason) => eprintln!(
            "hookmeter send: the daemon rejected the event (kept in rejected_events): {reason}"
        ),
        Delivery::Lost(reason) => eprintln!("hookmeter send: event not delivered: {reason}"),
    }
}

fn run_import(config: Config, paths: Vec<PathBuf>) -> ExitCode {
    init_logging(LogFormat::Text);
    let sources = if paths.is_empty() {
        Sources::Roots(config.transcripts.roots.clone())
    } else {
        Sources::Named(paths)
    };
    let prices = match hookmeter::daemon::load_prices(&config) {
        Ok(prices) => prices,
        Err(e) => return fail(&format!("{e:#}")),
    };
    let conn = match hookmeter::store::open_writer(&config.db, config.durability) {
        Ok(conn) => conn,
        Err(e) => return fail(&e.to_string()),
    };
    let (writer, writer_thread) = match hookmeter::store::writer::spawn(conn, prices, 64) {
        Ok(spawned) => spawned,
        Err(e) => return fail(&format!("cannot start the writer: {e}")),
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return fail(&format!("cannot start the runtime: {e}")),
    };
    let summary = runtime.block_on(hookmeter::ingest::import::import(&sources, &writer));
    drop(writer);
    let _ = writer_thread.join();
    print!("{summary}");
    if summary.failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn fail(message: &str) -> ExitCode {
    eprintln!("hookmeter: {message}");
    ExitCode::from(2)
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}
