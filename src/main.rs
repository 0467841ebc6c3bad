//! The `hookmeter` command line: parses flags, resolves the configuration
//! once, and hands off to the library. No logic lives here: each command's
//! work is in the module that owns it (`budget::commands`,
//! `ingest::import::run`, `store::reprice::run`, `send::run`,
//! `setup::doctor::run`, `report::commands`, `daemon::serve`); this file only
//! turns flags into their arguments and their results into output and an
//! exit status. The clap definitions stay here: they are the binary's whole
//! interface, and a module beside `lib.rs` would read as part of the library.

use std::io::{IsTerminal, Write as _};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use hookmeter::config::{Config, Overrides};
use hookmeter::ingest::import::Sources;
use hookmeter::present::View;
use hookmeter::report::commands::{self as reading, ReportArgs};
use hookmeter::report::Format;
use hookmeter::send;

/// The heading of the options every command takes, shown after its own.
const GLOBAL: &str = "Global options";

#[derive(Parser)]
#[command(
    name = "hookmeter",
    version,
    about = "Exact, live cost of your coding agents, from their hook events."
)]
struct Cli {
    /// Config file [env: HOOKMETER_CONFIG] [default: $XDG_CONFIG_HOME/hookmeter/config.toml]
    #[arg(long, global = true, help_heading = GLOBAL, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Database [env: TELEMETRY_DB_PATH] [default: $XDG_STATE_HOME/hookmeter/telemetry.db]
    #[arg(long, global = true, help_heading = GLOBAL, value_name = "FILE")]
    db: Option<PathBuf>,
    /// Unix socket [env: HOOKMETER_SOCKET] [default: $XDG_RUNTIME_DIR/hookmeter/hookmeter.sock]
    #[arg(long, global = true, help_heading = GLOBAL, value_name = "PATH")]
    socket: Option<PathBuf>,
    /// Spool directory [env: HOOKMETER_SPOOL] [default: $XDG_STATE_HOME/hookmeter/spool]
    #[arg(long, global = true, help_heading = GLOBAL, value_name = "DIR")]
    spool: Option<PathBuf>,
    /// HTTP API listen address, or off [env: HOOKMETER_HTTP] [default: 127.0.0.1:7717]; install-hooks --http installs http hooks to it
    // The value is optional only for install-hooks, whose `--http` (the
    // issue's name for "install http hooks") would otherwise clash with
    // this global option: clap refuses two `--http` on one command.
    #[arg(long, global = true, help_heading = GLOBAL, value_name = "ADDR", num_args = 0..=1)]
    http: Option<Option<String>>,
    /// Log format on stderr; the level comes from RUST_LOG (default info)
    #[arg(long, global = true, help_heading = GLOBAL, value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

// Parsed once per run: the size of a variant costs nothing worth boxing for.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
enum Command {
    /// Run the daemon in the foreground (socket + spool + POST /hook -> telemetry.db; HTTP API); speaks systemd notify and takes a socket-activated listener
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
    /// Claude Code's statusLine command: one line (model, session cost, today, tightest budget, plan use, burn rate) from the database, read-only; always exits 0
    #[command(
        after_help = "Reads Claude Code's statusline JSON on stdin. Placeholders of --format and [statusline] format: \
{model} {session_cost} {today} {budget} {plan} {burn} {reported_cost} {five_hour} {seven_day} (docs/cli.md). \
What Claude Code reported (the session's total_cost_usd, rate_limits) is written to the spool for the daemon, \
once per change; the daemon is never waited for."
    )]
    Statusline {
        /// No ANSI colors (tmux, shell prompts)
        #[arg(long)]
        plain: bool,
        /// This time's format instead of [statusline] format, e.g. "{model} {today}"
        #[arg(long, value_name = "FORMAT")]
        format: Option<String>,
    },
    /// Load Claude Code transcripts, Codex rollouts, Gemini CLI chat logs and OpenCode databases into the database (default: every root); safe to repeat
    Import {
        /// Transcript, rollout, chat log or database files, or directories [default: ~/.claude/projects, ~/.config/claude/projects, $CLAUDE_CONFIG_DIR/projects (comma-separated), $CODEX_HOME/sessions, $CODEX_HOME/archived_sessions (CODEX_HOME: ~/.codex), $GEMINI_CLI_HOME/.gemini/tmp (GEMINI_CLI_HOME: ~), $XDG_DATA_HOME/opencode (XDG_DATA_HOME: ~/.local/share)]
        paths: Vec<PathBuf>,
        /// Read only this agent's default roots (repeatable) [default: all]
        #[arg(long, value_enum, conflicts_with = "paths")]
        agent: Vec<ImportAgent>,
    },
    /// Cost report: totals grouped by one or two dimensions
    Report {
        #[command(flatten)]
        report: ReportFlags,
        #[command(flatten)]
        zone: ZoneFlag,
        #[command(flatten)]
        output: OutputFlags,
        #[command(flatten)]
        mistaken: MistakenRange,
    },
    /// hookmeter's cost against the cost each agent reported itself, per agent and session, with the causes of a difference
    #[command(
        after_help = "Compares the records that carry a reported cost (Claude Code's OpenTelemetry cost_usd, OpenCode's own cost) \
with hookmeter's price of the same records. Causes named: a model priced at the fallback rates; a model whose rate differs \
(both costs per million of those requests' tokens); requests from an OTel event alone whose 1-hour cache writes are unknown; \
requests seen only as an OTel event or only in a transcript."
    )]
    Reconcile {
        #[command(flatten)]
        range: RangeFlags,
        #[command(flatten)]
        zone: ZoneFlag,
        /// JSON instead of a table
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        mistaken: MistakenRange,
    },
    /// Today's cost by model (report --period today --by model)
    Today {
        #[command(flatten)]
        zone: ZoneFlag,
        #[command(flatten)]
        output: OutputFlags,
    },
    /// Sessions with cost, tokens, models and times; with ID, one session by model and by tool
    Sessions {
        /// A session id
        id: Option<String>,
        /// How many sessions, most recently active first
        #[arg(long, default_value_t = 20)]
        limit: u32,
        #[command(flatten)]
        zone: ZoneFlag,
        #[command(flatten)]
        output: OutputFlags,
    },
    /// Print the latest cost records in time order; -f follows new ones as they land
    Tail {
        /// Keep printing new records (survives the daemon restarting)
        #[arg(short, long)]
        follow: bool,
        /// How many of the latest records to print first
        #[arg(short = 'n', long, default_value_t = 10)]
        lines: u32,
        #[command(flatten)]
        zone: ZoneFlag,
        /// One JSON object per line, in the order records arrived (UTC times)
        #[arg(long)]
        json: bool,
    },
    /// Recompute the cost of stored records from their tokens with the prices in force now
    Reprice {
        /// Only records at or after this date (midnight, local time) or RFC 3339 time
        #[arg(long)]
        since: Option<String>,
        /// Show what would change; write nothing
        #[arg(long)]
        dry_run: bool,
        #[command(flatten)]
        mistaken: MistakenSince,
    },
    /// Push cost records to a central PostgreSQL ([push] postgres): create its schema, push what is pending, or show where the push stands
    #[command(group(clap::ArgGroup::new("push_action").required(true).args(["init", "once", "status"])))]
    Push {
        /// Create or upgrade the central schema (safe to run again)
        #[arg(long)]
        init: bool,
        /// Push everything pending and exit: 0 when all is pushed, 2 with the reason otherwise
        #[arg(long)]
        once: bool,
        /// The cursor, the changes pending, the last success and error, and whether the server answers
        #[arg(long)]
        status: bool,
        /// --status as JSON
        #[arg(long, requires = "status")]
        json: bool,
    },
    /// Spending limits per day, week, month (or in total for a task), for everything or one scope
    Budget {
        #[command(subcommand)]
        command: BudgetCommand,
    },
    /// Show the price table and how a model name is priced; set, import or update prices
    Pricing {
        #[command(subcommand)]
        command: PricingCommand,
    },
    /// MCP server on stdio: tools get_task_cost, get_session_cost, get_cost_report, get_budget_status
    Mcp,
    /// Add hookmeter's hooks to Claude Code's settings.json (yours by default), or with --agent codex to Codex's hooks.json, --agent gemini to the Gemini CLI's settings.json; keeps everything else, backs up first
    #[command(
        after_help = "The hooks run `hookmeter send` on PostToolUse, Stop, SubagentStop, SessionStart and SessionEnd, \
as in hooks/claude-settings.example.json. The command's program must be on PATH: without --command and with \
hookmeter not on PATH, the hooks run this binary's absolute path (the first line says so); a --command whose \
program is a bare name not found on PATH is refused (exit 1, nothing written). hookmeter's earlier entries are updated in place; \
a second run changes nothing. --socket and --spool, when given, are added to the hooks' command so they reach that daemon.\n\n\
--http (after install-hooks; --http ADDR for another address) installs type \"http\" hooks posting to the daemon's POST /hook \
at the HTTP address in force instead; with [http] token set they send `Authorization: Bearer $HOOKMETER_HTTP_TOKEN`, \
filled by Claude Code from its environment (the token is never written into the file). Switching kinds replaces hookmeter's hooks.\n\n\
--agent codex puts the same command hooks (not async) in Codex's $CODEX_HOME/hooks.json (default ~/.codex) and trusts exactly \
those in its config.toml ([hooks.state.\"<key>\"] trusted_hash, what Codex's /hooks records; Codex skips an untrusted hook \
without a word), keeping the user's comments and layout; both files are backed up when changed.\n\n\
--agent gemini puts command hooks (matcher \"*\") on SessionStart, AfterAgent, AfterTool and SessionEnd in the Gemini CLI's \
$GEMINI_CLI_HOME/.gemini/settings.json (default ~/.gemini/settings.json), keeping its other settings and hooks; the CLI runs \
them in trusted folders. Their events name the chat log, which the daemon then reads; usage is never taken from a hook."
    )]
    InstallHooks {
        /// A project's .claude/settings.json, in DIR [default DIR: the current directory]
        #[arg(long, value_name = "DIR", num_args = 0..=1, default_missing_value = ".", conflicts_with = "settings")]
        project: Option<PathBuf>,
        /// This settings file [default: $CLAUDE_CONFIG_DIR/settings.json, else ~/.claude/settings.json]
        #[arg(long, value_name = "FILE")]
        settings: Option<PathBuf>,
        /// The hooks' command, e.g. "/usr/local/bin/hookmeter send" or "hookmeter-hook" [default: hookmeter send, or this binary's absolute path when hookmeter is not on PATH]
        #[arg(long = "command", value_name = "CMD")]
        hook_command: Option<String>,
        /// Print the change as a unified diff; write nothing
        #[arg(long)]
        dry_run: bool,
        /// The agent whose hooks to install: claude-code, codex ($CODEX_HOME/hooks.json, trusted in its config.toml) or gemini ($GEMINI_CLI_HOME/.gemini/settings.json)
        #[arg(long, value_name = "AGENT", default_value = "claude-code", value_parser = ["claude-code", "codex", "gemini"])]
        agent: String,
        /// Instead of hooks, point the agent's own OpenTelemetry logs at this daemon's POST /v1/logs (Claude Code's settings.json env, Codex's [otel] in config.toml, the Gemini CLI's telemetry settings)
        #[arg(long, conflicts_with = "hook_command")]
        otel: bool,
        /// With --otel: take hookmeter's OpenTelemetry settings out again; with --statusline: hookmeter's statusLine
        #[arg(long)]
        remove: bool,
        /// Instead of hooks, set Claude Code's statusLine to `hookmeter statusline` (a statusLine of your own is kept unless --force)
        #[arg(long, conflicts_with_all = ["otel", "hook_command"])]
        statusline: bool,
        /// With --statusline: replace a statusLine of your own (backed up first)
        #[arg(long, requires = "statusline")]
        force: bool,
    },
    /// Check config, database, socket, spool and installed hooks, and say what to fix (exit 1 if a check fails)
    Doctor {
        /// A JSON array of {check, status, finding, fix}
        #[arg(long)]
        json: bool,
    },
    /// Print the effective configuration and where each value came from (flag, env, file, default)
    Config {
        /// One JSON object keyed by setting name: {"value", "origin", "detail"}
        #[arg(long)]
        json: bool,
    },
    /// Print the shell completion script for SHELL on stdout (install lines in the README)
    Completions {
        /// The shell the script is for
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print hookmeter's man page (roff) on stdout; with --dir, write one page per command there
    Man {
        /// Write hookmeter.1, hookmeter-serve.1, hookmeter-budget-set.1, ... into DIR (created if missing) instead
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
}

#[derive(clap::Args)]
struct ReportFlags {
    /// today | yesterday | week (since Monday) | month (since the 1st) | all
    #[arg(long, value_parser = ["today", "yesterday", "week", "month", "all"])]
    period: Option<String>,
    /// Start: a date (midnight in --tz) or an RFC 3339 time
    #[arg(long)]
    since: Option<String>,
    /// End: a date (that whole day included) or an RFC 3339 time (excluded)
    #[arg(long)]
    until: Option<String>,
    /// agent | model | provider | project | day | hour | session | tool | task | label:KEY, and with --team user | host | machine; twice for two levels
    #[arg(long)]
    by: Vec<String>,
    /// Only the records of this agent (its agent_id)
    #[arg(long)]
    agent: Option<String>,
    /// Only the records of this model, as recorded (e.g. claude-sonnet-4-5)
    #[arg(long)]
    model: Option<String>,
    /// Only the records of this session id
    #[arg(long)]
    session: Option<String>,
    /// Only the records of this task id
    #[arg(long)]
    task: Option<String>,
    /// Only the records of this project (the last part of the working directory)
    #[arg(long)]
    project: Option<String>,
    /// Suggestions to spend less, with the numbers behind them
    #[arg(long, conflicts_with = "team")]
    advice: bool,
    /// Plan limits instead of cost: each agent's 5-hour and 7-day use (latest, reset time, highest each day)
    #[arg(long, conflicts_with_all = ["advice", "team"])]
    plan: bool,
    /// Report on the team's central PostgreSQL (the push's, read-only) instead of this machine's database; credentials as `push` takes them
    #[arg(long, value_name = "URL")]
    team: Option<String>,
    /// With --team: only the records of this user (`[push] user` of their machines)
    #[arg(long, requires = "team")]
    user: Option<String>,
}

/// The range and the filters `reconcile` takes: `report`'s, without `--by`.
#[derive(clap::Args)]
struct RangeFlags {
    /// today | yesterday | week (since Monday) | month (since the 1st) | all
    #[arg(long, value_parser = ["today", "yesterday", "week", "month", "all"])]
    period: Option<String>,
    /// Start: a date (midnight in --tz) or an RFC 3339 time
    #[arg(long)]
    since: Option<String>,
    /// End: a date (that whole day included) or an RFC 3339 time (excluded)
    #[arg(long)]
    until: Option<String>,
    /// Only the records of this agent (its agent_id)
    #[arg(long)]
    agent: Option<String>,
    /// Only the records of this session id
    #[arg(long)]
    session: Option<String>,
}

/// `--tz`, the same for every command that prints times.
#[derive(clap::Args)]
struct ZoneFlag {
    /// Time zone of the times, days and periods shown (IANA name, e.g. Europe/Paris) [default: the system's; for budgets, alerts.tz if set]
    #[arg(long, value_name = "ZONE")]
    tz: Option<String>,
}

impl ZoneFlag {
    /// The zone asked for, `fallback` when none was.
    fn resolve(
        &self,
        fallback: impl FnOnce() -> jiff::tz::TimeZone,
    ) -> Result<jiff::tz::TimeZone, String> {
        match self.tz.as_deref() {
            None => Ok(fallback()),
            Some(name) => hookmeter::query::time_zone(Some(name))
                .map_err(|_| format!("--tz: unknown time zone {name:?}; give an IANA name such as Europe/Paris or UTC")),
        }
    }

    /// How a person will see the output: this zone, the terminal's width.
    fn view(&self, fallback: impl FnOnce() -> jiff::tz::TimeZone) -> Result<View, String> {
        Ok(View {
            tz: self.resolve(fallback)?,
            width: hookmeter::present::table::output_width(),
        })
    }
}

/// `--from`/`--to`, which people reach for: refused with the flag meant
/// (clap's own suggestions do not stretch that far).
#[derive(clap::Args)]
struct MistakenRange {
    #[arg(long, hide = true, num_args = 0..=1, allow_hyphen_values = true)]
    from: Option<Option<String>>,
    #[arg(long, hide = true, num_args = 0..=1, allow_hyphen_values = true)]
    to: Option<Option<String>>,
}

impl MistakenRange {
    fn check(&self) -> Result<(), String> {
        match (&self.from, &self.to) {
            (Some(_), _) => Err(unknown_flag("from", "since")),
            (_, Some(_)) => Err(unknown_flag("to", "until")),
            _ => Ok(()),
        }
    }
}

/// `reprice --from`: see [`MistakenRange`].
#[derive(clap::Args)]
struct MistakenSince {
    #[arg(long, hide = true, num_args = 0..=1, allow_hyphen_values = true)]
    from: Option<Option<String>>,
}

fn unknown_flag(typed: &str, meant: &str) -> String {
    format!("there is no --{typed} option; did you mean --{meant}?")
}

#[derive(clap::Args)]
struct OutputFlags {
    /// JSON instead of a table
    #[arg(long, conflicts_with = "csv")]
    json: bool,
    /// CSV instead of a table
    #[arg(long)]
    csv: bool,
}

impl OutputFlags {
    fn format(&self) -> Format {
        match (self.json, self.csv) {
            (true, _) => Format::Json,
            (_, true) => Format::Csv,
            _ => Format::Table,
        }
    }
}

#[derive(Subcommand)]
enum BudgetCommand {
    /// Set (or replace) limits in dollars; one or more periods at once
    Set {
        /// Limit per calendar day (from midnight in alerts.tz, else the system's zone)
        #[arg(long, value_name = "USD", allow_negative_numbers = true)]
        daily: Option<f64>,
        /// Limit per week (from Monday midnight)
        #[arg(long, value_name = "USD", allow_negative_numbers = true)]
        weekly: Option<f64>,
        /// Limit per calendar month (from the 1st)
        #[arg(long, value_name = "USD", allow_negative_numbers = true)]
        monthly: Option<f64>,
        /// All-time limit; for a task (--scope task:ID)
        #[arg(long, value_name = "USD", allow_negative_numbers = true)]
        total: Option<f64>,
        /// A budget on a plan window instead (five_hour | seven_day): alerts when its use reaches --at
        #[arg(long, value_name = "WINDOW", requires = "at", conflicts_with_all = ["daily", "weekly", "monthly", "total"])]
        plan: Option<String>,
        /// With --plan: the use of the window, in percent (1-100), that alerts
        #[arg(
            long,
            value_name = "PCT",
            requires = "plan",
            allow_negative_numbers = true
        )]
        at: Option<f64>,
        /// agent:NAME | task:ID | project:NAME [default: everything]; a plan budget: agent:NAME or everything
        #[arg(long)]
        scope: Option<String>,
        /// Once spent, `hookmeter send` denies the scope's PreToolUse events
        #[arg(long)]
        enforce: bool,
    },
    /// Each budget: spent this period, limit, share used, when the period ends
    Status {
        #[command(flatten)]
        zone: ZoneFlag,
        /// JSON instead of a table
        #[arg(long)]
        json: bool,
    },
    /// Remove budgets: all of them, or those of --scope and/or the periods named
    Clear {
        /// agent:NAME | task:ID | project:NAME, or "all" for the budgets of everything
        #[arg(long)]
        scope: Option<String>,
        /// Only the daily budgets
        #[arg(long)]
        daily: bool,
        /// Only the weekly budgets
        #[arg(long)]
        weekly: bool,
        /// Only the monthly budgets
        #[arg(long)]
        monthly: bool,
        /// Only the total budgets
        #[arg(long)]
        total: bool,
        /// Only the budget on this plan window (five_hour | seven_day)
        #[arg(long, value_name = "WINDOW")]
        plan: Option<String>,
    },
}

#[derive(Subcommand)]
enum PricingCommand {
    /// Every entry in force (embedded defaults, pricing.toml, COST_PRICING_* overrides)
    List,
    /// Which entry prices MODEL, how it matched, its rates and their source
    Check {
        /// A model name as an agent reports it, e.g. claude-sonnet-4-5-20250929
        model: String,
        /// Show the rates in force at TIME (RFC 3339, or a date: that UTC day's start), history spans included
        #[arg(long, value_name = "TIME")]
        at: Option<String>,
    },
    /// Merge a LiteLLM model_prices_and_context_window.json into the user pricing.toml (backed up first)
    Import {
        /// The LiteLLM price file
        file: PathBuf,
    },
    /// Replace the price update layer with LiteLLM's current prices (pricing.toml still wins)
    Update {
        /// Where to download LiteLLM's price file (default: [pricing] update_url)
        #[arg(long, conflicts_with = "file")]
        url: Option<String>,
        /// Read LiteLLM's price file from disk instead of downloading it
        #[arg(long)]
        file: Option<PathBuf>,
        /// Print what would change; write nothing
        #[arg(long)]
        dry_run: bool,
    },
    /// Write one model's prices (USD per 1M tokens) into the user pricing.toml (backed up first)
    #[command(
        after_help = "Rates not given keep the entry's own values in pricing.toml; a new entry's cache rates default to --input and the 1-hour write to --cache-write.\nA running daemon uses the new prices after SIGHUP or a restart; stored records keep their cost until `hookmeter reprice`."
    )]
    Set {
        /// The model as the agent names it, e.g. one `report` lists as fallback-priced
        model: String,
        /// USD per 1M non-cached prompt tokens
        #[arg(long, value_name = "USD", allow_negative_numbers = true)]
        input: f64,
        /// USD per 1M generated tokens
        #[arg(long, value_name = "USD", allow_negative_numbers = true)]
        output: f64,
        /// USD per 1M cache hits
        #[arg(long, value_name = "USD", allow_negative_numbers = true)]
        cache_read: Option<f64>,
        /// USD per 1M tokens written to the cache (5-minute lifetime)
        #[arg(long, value_name = "USD", allow_negative_numbers = true)]
        cache_write: Option<f64>,
        /// USD per 1M tokens written to the cache with a 1-hour lifetime
        #[arg(
            long = "cache-write-1h",
            value_name = "USD",
            allow_negative_numbers = true
        )]
        cache_write_1h: Option<f64>,
    },
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
        http: cli.http.clone().flatten(),
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
    // `statusline` runs after every message of an agent: it must always
    // print its line and exit 0.
    if let Command::Statusline { plain, format } = cli.command {
        let options = hookmeter::statusline::Options { format, plain };
        let line = hookmeter::statusline::run(&flags, &options, std::io::stdin().lock());
        print_out(&format!("{line}\n"));
        return ExitCode::SUCCESS;
    }
    let http_hooks = cli.http.is_some();
    if let (Some(None), false) = (
        &cli.http,
        matches!(cli.command, Command::InstallHooks { .. }),
    ) {
        return fail(
            "--http needs an address (--http 127.0.0.1:7717, or --http off); \
             only install-hooks takes --http alone (to install http hooks)",
        );
    }
    // Neither needs a config file that loads: install-hooks does not read
    // it (except for --http hooks), and doctor reports it.
    match cli.command {
        Command::InstallHooks {
            project,
            settings,
            hook_command,
            dry_run,
            agent,
            otel,
            remove,
            statusline,
            force,
        } => {
            if remove && !otel && !statusline {
                return fail("--remove goes with --otel or --statusline");
            }
            if statusline {
                if agent != "claude-code" {
                    return fail("--statusline is Claude Code's");
                }
                return run_install_statusline(project, settings, force, remove, dry_run);
            }
            if otel {
                if matches!(cli.http, Some(None)) {
                    return fail("--otel exports to the HTTP address in force; give it as --http ADDR before install-hooks, or drop --http");
                }
                if agent != "claude-code" && (project.is_some() || settings.is_some()) {
                    return fail("--project and --settings are Claude Code's");
                }
                return run_install_otel(&flags, &agent, project, settings, remove, dry_run);
            }
            if agent == "codex" {
                if project.is_some() || settings.is_some() || http_hooks {
                    return fail(
                        "--project, --settings and --http are Claude Code's; --agent codex installs \
                         command hooks in $CODEX_HOME/hooks.json",
                    );
                }
                return run_install_codex_hooks(&flags, hook_command, dry_run);
            }
            if agent == "gemini" {
                if project.is_some() || settings.is_some() || http_hooks {
                    return fail(
                        "--project, --settings and --http are Claude Code's; --agent gemini installs \
                         command hooks in $GEMINI_CLI_HOME/.gemini/settings.json",
                    );
                }
                return run_install_gemini_hooks(&flags, hook_command, dry_run);
            }
            let how = match http_hooks {
                false => HookKind::Command(hook_command),
                true if hook_command.is_some() => {
                    return fail("--command and --http are two kinds of hook; choose one")
                }
                true => HookKind::Http,
            };
            return run_install_hooks(&flags, project, settings, how, dry_run);
        }
        Command::Doctor { json } => return run_doctor(&flags, json),
        Command::Completions { shell } => return run_completions(shell),
        Command::Man { dir } => return run_man(dir),
        _ => {}
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
            // The signals first: a SIGTERM that arrives as soon as the
            // socket answers must drain, not kill.
            let serving = async {
                let signals = hookmeter::daemon::Signals::install()?;
                hookmeter::daemon::serve(config, signals).await
            };
            match runtime.block_on(serving) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) if e.is::<hookmeter::http::ListenError>() => fail(&e.to_string()),
                Err(e) => {
                    tracing::error!(error = format!("{e:#}"), "hookmeter cannot run.");
                    ExitCode::FAILURE
                }
            }
        }
        Command::Mcp => {
            // Logs go to stderr: stdout carries the protocol.
            init_logging(cli.log_format);
            let runtime = match tokio::runtime::Runtime::new() {
                Ok(rt) => rt,
                Err(e) => return fail(&format!("cannot start the runtime: {e}")),
            };
            let outcome = runtime.block_on(hookmeter::mcp::serve(config.db));
            // A read of stdin cannot be cancelled: do not wait for it.
            runtime.shutdown_background();
            match outcome {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => fail(&format!("{e:#}")),
            }
        }
        Command::Pricing { command } => run_pricing(&config, command),
        Command::Budget { command } => run_budget(&config, command),
        Command::Config { json } => {
            let stored = hookmeter::budget::stored_budgets(&config.db);
            print_out(&match json {
                true => format!("{:#}\n", config.describe_json_with(&stored)),
                false => config.describe_with(&stored),
            });
            ExitCode::SUCCESS
        }
        Command::Push {
            init, once, json, ..
        } => {
            use hookmeter::push::command::{run, Action};
            let action = match (init, once) {
                (true, _) => Action::Init,
                (_, true) => Action::Once,
                _ => Action::Status { json },
            };
            print_or_exit2(run(&config, action))
        }
        Command::Import { paths, agent } => run_import(config, paths, agent),
        Command::Reprice {
            since,
            dry_run,
            mistaken,
        } => match mistaken.from {
            Some(_) => fail(&unknown_flag("from", "since")),
            None => run_reprice(&config, since.as_deref(), dry_run),
        },
        Command::Report {
            report,
            zone,
            output,
            mistaken,
        } => {
            if let Err(e) = mistaken.check() {
                return fail(&e);
            }
            let view = match zone.view(jiff::tz::TimeZone::system) {
                Ok(view) => view,
                Err(e) => return fail(&e),
            };
            let args = ReportArgs {
                period: report.period,
                since: report.since,
                until: report.until,
                by: report.by,
                agent: report.agent,
                model: report.model,
                session: report.session,
                task: report.task,
                project: report.project,
                user: report.user,
                tz: zone.tz,
            };
            if let Some(url) = &report.team {
                let text = reading::team_report(&config.push, url, &args, &view, output.format());
                return match text {
                    Ok(text) => {
                        print_out(&text);
                        ExitCode::SUCCESS
                    }
                    Err(e) => fail(&e),
                };
            }
            if report.plan {
                return print_or_fail(
                    reading::plan(&config.db, &args, &view, output.format()),
                    &config,
                );
            }
            if report.advice {
                let prices = match config.load_prices() {
                    Ok(prices) => prices,
                    Err(e) => return fail(&format!("{e:#}")),
                };
                let advice = reading::advice(&config.db, &args, &prices, &view, output.format());
                return print_or_fail(advice, &config);
            }
            print_or_fail(
                reading::report(&config.db, &args, &view, output.format()),
                &config,
            )
        }
        Command::Reconcile {
            range,
            zone,
            json,
            mistaken,
        } => {
            if let Err(e) = mistaken.check() {
                return fail(&e);
            }
            let view = match zone.view(jiff::tz::TimeZone::system) {
                Ok(view) => view,
                Err(e) => return fail(&e),
            };
            let args = ReportArgs {
                period: range.period,
                since: range.since,
                until: range.until,
                agent: range.agent,
                session: range.session,
                tz: zone.tz,
                ..ReportArgs::default()
            };
            let format = match json {
                true => Format::Json,
                false => Format::Table,
            };
            print_or_fail(
                reading::reconcile(&config.db, &args, &view, format),
                &config,
            )
        }
        Command::Today { zone, output } => {
            let view = match zone.view(jiff::tz::TimeZone::system) {
                Ok(view) => view,
                Err(e) => return fail(&e),
            };
            let args = ReportArgs {
                period: Some("today".into()),
                by: vec!["model".into()],
                tz: zone.tz,
                ..ReportArgs::default()
            };
            print_or_fail(
                reading::report(&config.db, &args, &view, output.format()),
                &config,
            )
        }
        Command::Sessions {
            id,
            limit,
            zone,
            output,
        } => match zone.view(jiff::tz::TimeZone::system) {
            Ok(view) => print_or_fail(
                reading::sessions(&config.db, id.as_deref(), limit, &view, output.format()),
                &config,
            ),
            Err(e) => fail(&e),
        },
        Command::Tail {
            follow,
            lines,
            zone,
            json,
        } => {
            let view = match zone.view(jiff::tz::TimeZone::system) {
                Ok(view) => view,
                Err(e) => return fail(&e),
            };
            // -f follows a daemon that may start later: it waits, and says so.
            if let Some(missing) = config.missing_database().filter(|_| follow) {
                eprintln!("hookmeter: {}", missing.waiting());
            }
            match reading::tail(
                &config.db,
                lines,
                follow,
                json,
                &view,
                &mut std::io::stdout(),
            ) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => fail(&e.explained(&config)),
            }
        }
        Command::Send { .. }
        | Command::Statusline { .. }
        | Command::InstallHooks { .. }
        | Command::Doctor { .. }
        | Command::Completions { .. }
        | Command::Man { .. } => {
            unreachable!("handled above")
        }
    }
}

fn run_pricing(config: &Config, command: PricingCommand) -> ExitCode {
    let model = match command {
        PricingCommand::Import { file } => {
            return match hookmeter::user_files::import_prices(config, &file) {
                Ok(summary) => {
                    print_out(&summary);
                    ExitCode::SUCCESS
                }
                Err(e) if e.is_bad_input() => fail(&e.to_string()),
                Err(e) => {
                    eprintln!("hookmeter: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        PricingCommand::Update { url, file, dry_run } => {
            return run_pricing_update(config, url, file, dry_run)
        }
        PricingCommand::Set {
            model,
            input,
            output,
            cache_read,
            cache_write,
            cache_write_1h,
        } => {
            return run_pricing_set(
                config,
                &model,
                [input, output],
                [cache_read, cache_write, cache_write_1h],
            )
        }
        PricingCommand::List => None,
        PricingCommand::Check { model, at } => {
            // A date is a UTC day, as price history spans are written.
            let at = at
                .map(|text| {
                    hookmeter::query::parse_bound(
                        &text,
                        hookmeter::query::End::Start,
                        &jiff::tz::TimeZone::UTC,
                    )
                })
                .transpose();
            match at {
                Ok(at) => Some((model, at)),
                Err(e) => return fail(&format!("--at: {e}")),
            }
        }
    };
    let table = match config.load_prices() {
        Ok(table) => table,
        Err(e) => return fail(&format!("{e:#}")),
    };
    print_out(&match model {
        None => hookmeter::pricing::render_list(&table, hookmeter::present::table::output_width()),
        Some((model, at)) => hookmeter::pricing::render_check(&table, &model, at),
    });
    ExitCode::SUCCESS
}

/// `pricing set`: every rate checked (a number from 0 to the table's
/// maximum, never NaN or infinite) before the file is touched.
fn run_pricing_set(
    config: &Config,
    model: &str,
    [input, output]: [f64; 2],
    [cache_read, cache_write, cache_write_1h]: [Option<f64>; 3],
) -> ExitCode {
    use hookmeter::pricing::{set::GivenRates, Rate};
    let rate = |flag: &str, value: f64| Rate::new(value).map_err(|e| format!("--{flag}: {e}"));
    let optional = |flag: &str, value: Option<f64>| value.map(|v| rate(flag, v)).transpose();
    let rates = (|| {
        Ok::<_, String>(GivenRates {
            input: rate("input", input)?,
            output: rate("output", output)?,
            cache_read: optional("cache-read", cache_read)?,
            cache_write_5m: optional("cache-write", cache_write)?,
            cache_write_1h: optional("cache-write-1h", cache_write_1h)?,
        })
    })();
    let rates = match rates {
        Ok(rates) => rates,
        Err(e) => return fail(&e),
    };
    let env: Vec<(String, String)> = std::env::vars().collect();
    match hookmeter::user_files::set_price(config, model, &rates, &env) {
        Ok(text) => {
            print_out(&text);
            ExitCode::SUCCESS
        }
        Err(e) if e.is_bad_input() => fail(&e.to_string()),
        Err(e) => {
            eprintln!("hookmeter: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run_pricing_update(
    config: &Config,
    url: Option<String>,
    file: Option<PathBuf>,
    dry_run: bool,
) -> ExitCode {
    use hookmeter::user_files::price_update::{summary, update_prices, UpdateSource};
    let settings = &config.price_updates;
    let source = match (file, url) {
        (Some(file), _) => UpdateSource::File(file),
        (None, url) => UpdateSource::Url(url.unwrap_or_else(|| settings.url.clone())),
    };
    let origin = match &source {
        UpdateSource::Url(url) => url.clone(),
        UpdateSource::File(path) => path.display().to_string(),
    };
    match update_prices(settings, &source, dry_run) {
        Ok(outcome) => {
            print_out(&summary(&outcome, &origin, &settings.layer_file));
            ExitCode::SUCCESS
        }
        Err(e) if e.is_bad_input() => fail(&e.to_string()),
        Err(e) => {
            eprintln!("hookmeter: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run_send(
    flags: &Overrides,
    agent: Option<String>,
    task: Option<String>,
    labels: Vec<(String, String)>,
) {
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    if let Some(decision) = send::run(flags, agent, task, labels, &env, std::io::stdin().lock()) {
        print_out(&decision);
    }
}

/// Which hooks install-hooks writes.
enum HookKind {
    /// Command hooks, running `--command` or `hookmeter send`.
    Command(Option<String>),
    /// `--http`: http hooks to the daemon's POST /hook.
    Http,
}

fn run_install_hooks(
    flags: &Overrides,
    project: Option<PathBuf>,
    settings: Option<PathBuf>,
    how: HookKind,
    dry_run: bool,
) -> ExitCode {
    use hookmeter::setup::hooks::{self, HttpHooks, Request, Target};
    let target = match (project, settings) {
        (_, Some(file)) => Target::File(file),
        (Some(dir), None) => Target::Project(dir),
        (None, None) => Target::User,
    };
    let (command, http) = match how {
        HookKind::Command(command) => (command, None),
        // The hooks' URL and whether they carry the token come from the
        // daemon's settings, so only these hooks need the config to load.
        HookKind::Http => match HttpHooks::resolve(flags, &|name| std::env::var(name).ok()) {
            Ok(http) => (None, Some(http)),
            Err(e) => return fail(&e),
        },
    };
    let request = Request {
        target,
        command,
        socket: flags.socket.clone(),
        spool: flags.spool.clone(),
        dry_run,
        http,
    };
    match hooks::run(&request, &|name| std::env::var(name).ok()) {
        Ok(text) => {
            print_out(&text);
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("hookmeter: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run_install_statusline(
    project: Option<PathBuf>,
    settings: Option<PathBuf>,
    force: bool,
    remove: bool,
    dry_run: bool,
) -> ExitCode {
    use hookmeter::setup;
    let env = |name: &str| std::env::var(name).ok();
    let absolute = |p: &std::path::Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    let path = match (project, settings) {
        (_, Some(file)) => absolute(&file),
        (Some(dir), None) => setup::project_settings(&absolute(&dir)),
        (None, None) => match setup::user_settings(&env) {
            Ok(path) => absolute(&path),
            Err(e) => return fail(&e),
        },
    };
    // The hooks' rule for the program: `hookmeter` when on PATH, else this
    // binary's absolute path.
    let settled = match setup::hooks::settle_program(
        None,
        &|program| setup::find_program(program, &env),
        &|| std::env::current_exe().and_then(std::fs::canonicalize),
        &env("PATH").unwrap_or_default(),
    ) {
        Ok(settled) => settled,
        Err(e) => return fail(&e.to_string()),
    };
    let program = settled.base.strip_suffix(" send").unwrap_or("hookmeter");
    let command = format!("{program} statusline");
    match setup::statusline::install(&path, &command, force, remove, dry_run) {
        Ok(text) => {
            print_out(&text);
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("hookmeter: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run_install_otel(
    flags: &Overrides,
    agent: &str,
    project: Option<PathBuf>,
    settings: Option<PathBuf>,
    remove: bool,
    dry_run: bool,
) -> ExitCode {
    use hookmeter::setup::otel::{self, Agent, Edit, Endpoint};
    let env = |name: &str| std::env::var(name).ok();
    let endpoint = match Endpoint::resolve(flags, &env) {
        Ok(endpoint) => endpoint,
        Err(e) => return fail(&format!("{e}; nothing was changed")),
    };
    let claude_settings = match (project, settings) {
        (_, Some(file)) => file,
        (Some(dir), None) => hookmeter::setup::project_settings(&dir),
        (None, None) if agent == "claude-code" => match hookmeter::setup::user_settings(&env) {
            Ok(path) => path,
            Err(e) => return fail(&e),
        },
        (None, None) => PathBuf::new(),
    };
    let agent = match agent {
        "codex" => Agent::Codex,
        "gemini" => Agent::Gemini,
        _ => Agent::ClaudeCode,
    };
    let edit = match remove {
        true => Edit::Remove,
        false => Edit::Install,
    };
    match otel::run(agent, &claude_settings, &endpoint, edit, dry_run, &env) {
        Ok(text) => {
            print_out(&text);
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("hookmeter: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run_install_codex_hooks(flags: &Overrides, command: Option<String>, dry_run: bool) -> ExitCode {
    use hookmeter::setup::codex::{self, Request};
    let request = Request {
        command,
        socket: flags.socket.clone(),
        spool: flags.spool.clone(),
        dry_run,
    };
    match codex::run(&request, &|name| std::env::var(name).ok()) {
        Ok(text) => {
            print_out(&text);
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("hookmeter: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run_install_gemini_hooks(flags: &Overrides, command: Option<String>, dry_run: bool) -> ExitCode {
    use hookmeter::setup::gemini::{self, Request};
    let request = Request {
        command,
        socket: flags.socket.clone(),
        spool: flags.spool.clone(),
        dry_run,
    };
    match gemini::run(&request, &|name| std::env::var(name).ok()) {
        Ok(text) => {
            print_out(&text);
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("hookmeter: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run_doctor(flags: &Overrides, json: bool) -> ExitCode {
    use hookmeter::setup::doctor;
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let findings = doctor::run(flags, &|name| std::env::var(name).ok(), &cwd);
    print_out(&match json {
        true => doctor::render_json(&findings),
        false => doctor::render_text(&findings),
    });
    match doctor::passed(&findings) {
        true => ExitCode::SUCCESS,
        false => ExitCode::FAILURE,
    }
}

/// The completion script comes from the same clap definitions the binary
/// parses with, so a new flag or command is completed without an edit here.
fn run_completions(shell: clap_complete::Shell) -> ExitCode {
    use clap::CommandFactory;
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "hookmeter", &mut script);
    write_stdout(&script)
}

fn run_man(dir: Option<PathBuf>) -> ExitCode {
    use clap::CommandFactory;
    let Some(dir) = dir else {
        let mut page = Vec::new();
        if let Err(e) = clap_mangen::Man::new(Cli::command()).render(&mut page) {
            eprintln!("hookmeter: cannot render the man page: {e}");
            return ExitCode::FAILURE;
        }
        return write_stdout(&page);
    };
    let written =
        std::fs::create_dir_all(&dir).and_then(|()| clap_mangen::generate_to(Cli::command(), &dir));
    match written {
        Ok(()) => {
            print_out(&format!("man pages written to {}\n", dir.display()));
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!(
                "hookmeter: cannot write the man pages to {}: {e}",
                dir.display()
            );
            ExitCode::FAILURE
        }
    }
}

/// Generated text on stdout; a closed pipe (`| head`) is not an error worth a message.
fn write_stdout(bytes: &[u8]) -> ExitCode {
    match std::io::stdout().lock().write_all(bytes) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("hookmeter: cannot write to stdout: {e}");
            ExitCode::FAILURE
        }
    }
}

/// An agent whose logs `import` reads.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ImportAgent {
    ClaudeCode,
    Codex,
    Gemini,
    #[value(name = "opencode")]
    OpenCode,
}

fn run_import(config: Config, paths: Vec<PathBuf>, agents: Vec<ImportAgent>) -> ExitCode {
    init_logging(LogFormat::Text);
    let sources = if paths.is_empty() {
        let wants = |agent| agents.is_empty() || agents.contains(&agent);
        let mut roots = Vec::new();
        if wants(ImportAgent::ClaudeCode) {
            roots.extend(config.transcripts.roots.iter().cloned());
        }
        if wants(ImportAgent::Codex) {
            roots.extend(config.transcripts.codex_roots.iter().cloned());
        }
        if wants(ImportAgent::Gemini) {
            roots.extend(config.transcripts.gemini_roots.iter().cloned());
        }
        if wants(ImportAgent::OpenCode) {
            roots.extend(config.transcripts.opencode_roots.iter().cloned());
        }
        Sources::Roots(roots)
    } else {
        Sources::Named(paths)
    };
    match hookmeter::ingest::import::run(&config, &sources) {
        Ok(summary) => {
            print_out(&summary.to_string());
            match summary.failed.is_empty() {
                true => ExitCode::SUCCESS,
                false => ExitCode::FAILURE,
            }
        }
        Err(e) => fail(&e),
    }
}

fn run_budget(config: &Config, command: BudgetCommand) -> ExitCode {
    let outcome = match command {
        BudgetCommand::Set {
            daily,
            weekly,
            monthly,
            total,
            plan,
            at,
            scope,
            enforce,
        } => hookmeter::budget::commands::set(
            config,
            scope.as_deref(),
            [daily, weekly, monthly, total],
            plan.as_deref()
                .map(|window| hookmeter::budget::commands::PlanFlags { window, at_pct: at }),
            enforce,
        ),
        BudgetCommand::Status { zone, json } => zone
            .view(|| config.alerts.tz.clone())
            .and_then(|view| hookmeter::budget::commands::status(config, &view, json)),
        BudgetCommand::Clear {
            scope,
            daily,
            weekly,
            monthly,
            total,
            plan,
        } => hookmeter::budget::commands::clear(
            config,
            scope.as_deref(),
            [daily, weekly, monthly, total],
            plan.as_deref(),
        ),
    };
    print_or_exit2(outcome)
}

fn run_reprice(config: &Config, since: Option<&str>, dry_run: bool) -> ExitCode {
    let since = match since
        .map(|s| {
            let tz = jiff::tz::TimeZone::system();
            hookmeter::query::parse_bound(s, hookmeter::query::End::Start, &tz)
        })
        .transpose()
    {
        Ok(since) => since,
        Err(e) => return fail(&format!("--since: {e}")),
    };
    print_or_exit2(hookmeter::store::reprice::run(config, since, dry_run))
}

/// Prints a command's output, or its one-line error (exit 2).
fn print_or_exit2(text: Result<String, String>) -> ExitCode {
    match text {
        Ok(text) => {
            print_out(&text);
            ExitCode::SUCCESS
        }
        Err(e) => fail(&e),
    }
}

fn print_or_fail(text: Result<String, hookmeter::query::QueryError>, config: &Config) -> ExitCode {
    match text {
        Ok(text) => {
            print_out(&text);
            ExitCode::SUCCESS
        }
        Err(e) => fail(&e.explained(config)),
    }
}

/// Writes a command's output; a reader that went away (`| head`) is not an
/// error worth a panic.
fn print_out(text: &str) {
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
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
