//! What `hookmeter config` prints: every setting in force, its value and
//! the origin [`Config::resolve`] recorded for it. Nothing here decides a
//! value; it only reads the resolved [`Config`].
//!
//! For users: docs/configuration.md#which-value-applies-and-why-hookmeter-config.

use std::fmt::Write as _;
use std::path::Path;

use serde_json::{json, Map, Value};

use super::{Config, Durability, Origin};

impl Config {
    /// Every setting in display order, by the name its config-file key has
    /// (`limits.idle_timeout_secs`), with its value as JSON.
    fn settings(&self) -> Vec<(&'static str, Value)> {
        let path = |p: &Path| Value::String(p.display().to_string());
        let l = &self.limits;
        let t = &self.transcripts;
        vec![
            ("config_file", path(&self.config_file)),
            ("db", path(&self.db)),
            ("socket", path(&self.socket)),
            ("spool", path(&self.spool)),
            ("http", json!(self.http.as_deref().unwrap_or("off"))),
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
            ("metrics.max_label_values", json!(self.max_label_values)),
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
            ("budgets", json!(self.budgets.len())),
            ("pricing_file", path(&self.pricing_file)),
        ]
    }

    fn origin_of(&self, name: &str) -> &Origin {
        // resolve records every setting `settings` lists (a unit test holds
        // the two lists together); a gap would only mislabel, not mislead.
        self.origins.get(name).unwrap_or(&Origin::Default)
    }

    /// `hookmeter config --json`: an object keyed by setting name, each
    /// `{"value", "origin": "flag"|"env"|"file"|"default", "detail"}` where
    /// detail is the variable's name, the file's path, or null.
    pub fn describe_json(&self) -> Value {
        let mut out = Map::new();
        for (name, value) in self.settings() {
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
    pub fn describe(&self) -> String {
        let rows: Vec<[String; 3]> = self
            .settings()
            .into_iter()
            .map(|(name, value)| {
                let shown = match value {
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
        let shown: BTreeSet<&str> = c.settings().iter().map(|(name, _)| *name).collect();
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
        let json = c.describe_json();
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
    fn text_has_one_aligned_line_per_setting() {
        let c = Config::resolve(&Overrides::default(), &env_of(&[("HOME", "/h")])).unwrap();
        let text = c.describe();
        let table: Vec<&str> = text.lines().take_while(|l| !l.is_empty()).collect();
        assert_eq!(
            table.len(),
            2 + c.settings().len(),
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
