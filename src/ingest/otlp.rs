//! The OTLP logs source (docs/ingest.md#opentelemetry): an export's
//! body, as `POST /v1/logs` or OTLP/gRPC received it, → the log records it holds
//! ([`crate::collect::otel::LogRecord`]), from either encoding OTLP/HTTP
//! allows (binary protobuf, JSON), inflated first when it came gzipped —
//! never past the size limit. What a record is worth is the collector's
//! ([`crate::collect::otel::map`]); this module only decodes.
//!
//! The protobuf messages are hookmeter's own, declared from the field
//! numbers of opentelemetry-proto's `logs/v1`, `common/v1`, `resource/v1`,
//! `collector/logs/v1` and `collector/metrics/v1`, with only the fields usage needs (prost skips
//! the others).

use std::io::Read;

use crate::collect::otel::{AnyValue, LogRecord};

/// The protobuf messages of an OTLP logs export and its answer.
pub mod wire {
    /// `ExportLogsServiceRequest`.
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct ExportLogsServiceRequest {
        #[prost(message, repeated, tag = "1")]
        pub resource_logs: Vec<ResourceLogs>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct ResourceLogs {
        #[prost(message, optional, tag = "1")]
        pub resource: Option<Resource>,
        #[prost(message, repeated, tag = "2")]
        pub scope_logs: Vec<ScopeLogs>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Resource {
        #[prost(message, repeated, tag = "1")]
        pub attributes: Vec<KeyValue>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct ScopeLogs {
        #[prost(message, repeated, tag = "2")]
        pub log_records: Vec<LogRecord>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct LogRecord {
        #[prost(fixed64, tag = "1")]
        pub time_unix_nano: u64,
        #[prost(fixed64, tag = "11")]
        pub observed_time_unix_nano: u64,
        #[prost(message, optional, tag = "5")]
        pub body: Option<AnyValue>,
        #[prost(message, repeated, tag = "6")]
        pub attributes: Vec<KeyValue>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct KeyValue {
        #[prost(string, tag = "1")]
        pub key: String,
        #[prost(message, optional, tag = "2")]
        pub value: Option<AnyValue>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct AnyValue {
        #[prost(oneof = "Value", tags = "1, 2, 3, 4, 7")]
        pub value: Option<Value>,
    }

    /// `AnyValue.value`; arrays (5) and key-value lists (6) are skipped.
    #[derive(Clone, PartialEq, prost::Oneof)]
    pub enum Value {
        #[prost(string, tag = "1")]
        StringValue(String),
        #[prost(bool, tag = "2")]
        BoolValue(bool),
        #[prost(int64, tag = "3")]
        IntValue(i64),
        #[prost(double, tag = "4")]
        DoubleValue(f64),
        #[prost(bytes, tag = "7")]
        BytesValue(Vec<u8>),
    }

    /// `ExportLogsServiceResponse`.
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct ExportLogsServiceResponse {
        #[prost(message, optional, tag = "1")]
        pub partial_success: Option<ExportLogsPartialSuccess>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct ExportLogsPartialSuccess {
        #[prost(int64, tag = "1")]
        pub rejected_log_records: i64,
        #[prost(string, tag = "2")]
        pub error_message: String,
    }

    /// `ExportMetricsServiceRequest` (`collector/metrics/v1`), read only as
    /// far as each metric's name: metric points add no records.
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct ExportMetricsServiceRequest {
        #[prost(message, repeated, tag = "1")]
        pub resource_metrics: Vec<ResourceMetrics>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct ResourceMetrics {
        #[prost(message, repeated, tag = "2")]
        pub scope_metrics: Vec<ScopeMetrics>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct ScopeMetrics {
        #[prost(message, repeated, tag = "2")]
        pub metrics: Vec<Metric>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Metric {
        #[prost(string, tag = "1")]
        pub name: String,
    }

    /// `google.rpc.Status`, the body of an OTLP/HTTP error answer.
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Status {
        #[prost(int32, tag = "1")]
        pub code: i32,
        #[prost(string, tag = "2")]
        pub message: String,
    }
}

/// The two encodings OTLP/HTTP allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// `application/x-protobuf`.
    Protobuf,
    /// `application/json`.
    Json,
}

impl Encoding {
    /// The encoding a `Content-Type` names, if it is one of the two.
    pub fn of(content_type: &str) -> Option<Encoding> {
        let essence = content_type.split(';').next().unwrap_or_default().trim();
        if essence.eq_ignore_ascii_case("application/x-protobuf") {
            Some(Encoding::Protobuf)
        } else if essence.eq_ignore_ascii_case("application/json") {
            Some(Encoding::Json)
        } else {
            None
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Encoding::Protobuf => "application/x-protobuf",
            Encoding::Json => "application/json",
        }
    }
}

/// Why an export body could not be read.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("the gzip body does not inflate: {0}")]
    Gzip(String),
    #[error("the gzip body inflates past the limit of {limit} bytes ([otlp] max_body)")]
    Inflated { limit: usize },
    #[error("the body is not an OTLP logs export in protobuf: {0}")]
    Protobuf(String),
    #[error("the body is not an OTLP logs export in JSON: {0}")]
    Json(String),
    #[error("the body is not an OTLP metrics export in protobuf: {0}")]
    MetricsProtobuf(String),
    #[error("the body is not an OTLP metrics export in JSON: {0}")]
    MetricsJson(String),
}

/// Inflates a gzip body, refusing to hold more than `limit` bytes of it: a
/// small body that inflates to gigabytes (a gzip bomb) stops at the limit.
pub fn gunzip(body: &[u8], limit: usize) -> Result<Vec<u8>, DecodeError> {
    let mut out = Vec::new();
    let mut inflating = flate2::read::GzDecoder::new(body).take(limit as u64 + 1);
    inflating
        .read_to_end(&mut out)
        .map_err(|e| DecodeError::Gzip(e.to_string()))?;
    if out.len() > limit {
        return Err(DecodeError::Inflated { limit });
    }
    Ok(out)
}

/// The log records of an export body in `encoding`.
pub fn decode(body: &[u8], encoding: Encoding) -> Result<Vec<LogRecord>, DecodeError> {
    match encoding {
        Encoding::Protobuf => {
            let request: wire::ExportLogsServiceRequest = prost::Message::decode(body)
                .map_err(|e: prost::DecodeError| DecodeError::Protobuf(e.to_string()))?;
            Ok(from_wire(request))
        }
        Encoding::Json => {
            let request: json::ExportLogsServiceRequest =
                serde_json::from_slice(body).map_err(|e| DecodeError::Json(e.to_string()))?;
            Ok(from_json(request))
        }
    }
}

/// How many metrics an OTLP metrics export body in `encoding` holds. The
/// points themselves are not read: they never add records
/// (docs/ingest.md#opentelemetry), but a body that is not an export is
/// told apart from one that is.
pub fn decode_metrics(body: &[u8], encoding: Encoding) -> Result<u64, DecodeError> {
    let count = |per_scope: &mut dyn Iterator<Item = usize>| per_scope.sum::<usize>() as u64;
    match encoding {
        Encoding::Protobuf => {
            let request: wire::ExportMetricsServiceRequest = prost::Message::decode(body)
                .map_err(|e: prost::DecodeError| DecodeError::MetricsProtobuf(e.to_string()))?;
            Ok(count(
                &mut request
                    .resource_metrics
                    .iter()
                    .flat_map(|r| &r.scope_metrics)
                    .map(|s| s.metrics.len()),
            ))
        }
        Encoding::Json => {
            let request: json::ExportMetricsServiceRequest = serde_json::from_slice(body)
                .map_err(|e| DecodeError::MetricsJson(e.to_string()))?;
            Ok(count(
                &mut request
                    .resource_metrics
                    .iter()
                    .flat_map(|r| &r.scope_metrics)
                    .map(|s| s.metrics.len()),
            ))
        }
    }
}

fn from_wire(request: wire::ExportLogsServiceRequest) -> Vec<LogRecord> {
    let attrs = |kvs: Vec<wire::KeyValue>| -> Vec<(String, AnyValue)> {
        kvs.into_iter()
            .map(|kv| (kv.key, kv.value.map_or(AnyValue::Other, wire_value)))
            .collect()
    };
    let mut records = Vec::new();
    for resource_logs in request.resource_logs {
        let resource = attrs(resource_logs.resource.unwrap_or_default().attributes);
        for scope in resource_logs.scope_logs {
            for record in scope.log_records {
                records.push(LogRecord {
                    time_unix_nano: pick_time(
                        record.time_unix_nano,
                        record.observed_time_unix_nano,
                    ),
                    body: record.body.map(wire_value),
                    attributes: attrs(record.attributes),
                    resource: resource.clone(),
                });
            }
        }
    }
    records
}

fn wire_value(value: wire::AnyValue) -> AnyValue {
    match value.value {
        Some(wire::Value::StringValue(s)) => AnyValue::String(s),
        Some(wire::Value::BoolValue(b)) => AnyValue::Bool(b),
        Some(wire::Value::IntValue(n)) => AnyValue::Int(n),
        Some(wire::Value::DoubleValue(d)) => AnyValue::Double(d),
        Some(wire::Value::BytesValue(_)) | None => AnyValue::Other,
    }
}

fn pick_time(time: u64, observed: u64) -> u64 {
    if time > 0 {
        time
    } else {
        observed
    }
}

/// The OTLP/JSON encoding: the protobuf's JSON mapping with lowerCamelCase
/// names; 64-bit integers as decimal strings or numbers; ids as hex (not
/// needed here, so not declared); unknown fields ignored, as the spec asks.
mod json {
    use serde::Deserialize;

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct ExportLogsServiceRequest {
        #[serde(default)]
        pub resource_logs: Vec<ResourceLogs>,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct ResourceLogs {
        #[serde(default)]
        pub resource: Option<Resource>,
        #[serde(default)]
        pub scope_logs: Vec<ScopeLogs>,
    }

    #[derive(Deserialize, Default)]
    pub struct Resource {
        #[serde(default)]
        pub attributes: Vec<KeyValue>,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct ScopeLogs {
        #[serde(default)]
        pub log_records: Vec<LogRecord>,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct LogRecord {
        #[serde(default)]
        pub time_unix_nano: Option<Int>,
        #[serde(default)]
        pub observed_time_unix_nano: Option<Int>,
        #[serde(default)]
        pub body: Option<AnyValue>,
        #[serde(default)]
        pub attributes: Vec<KeyValue>,
    }

    #[derive(Deserialize)]
    pub struct KeyValue {
        pub key: String,
        #[serde(default)]
        pub value: Option<AnyValue>,
    }

    /// One of the `AnyValue` fields; arrays, lists and bytes are read past.
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct AnyValue {
        pub string_value: Option<String>,
        pub bool_value: Option<bool>,
        pub int_value: Option<Int>,
        pub double_value: Option<Double>,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct ExportMetricsServiceRequest {
        #[serde(default)]
        pub resource_metrics: Vec<ResourceMetrics>,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct ResourceMetrics {
        #[serde(default)]
        pub scope_metrics: Vec<ScopeMetrics>,
    }

    #[derive(Deserialize)]
    pub struct ScopeMetrics {
        #[serde(default)]
        pub metrics: Vec<Metric>,
    }

    /// A metric: an object, its fields read past.
    #[derive(Deserialize)]
    pub struct Metric {}

    /// An int64 as the JSON mapping writes it: a decimal string, or a number.
    #[derive(Deserialize)]
    #[serde(untagged)]
    pub enum Int {
        Number(i64),
        Unsigned(u64),
        Text(String),
    }

    impl Int {
        pub fn value(&self) -> Option<i128> {
            match self {
                Int::Number(n) => Some(i128::from(*n)),
                Int::Unsigned(n) => Some(i128::from(*n)),
                Int::Text(s) => s.trim().parse().ok(),
            }
        }
    }

    /// A double: a number, or `"NaN"`, `"Infinity"`, `"-Infinity"` (which
    /// no count or cost can be, so they read as not a number).
    #[derive(Deserialize)]
    #[serde(untagged)]
    pub enum Double {
        Number(f64),
        Text(serde::de::IgnoredAny),
    }
}

fn from_json(request: json::ExportLogsServiceRequest) -> Vec<LogRecord> {
    let attrs = |kvs: Vec<json::KeyValue>| -> Vec<(String, AnyValue)> {
        kvs.into_iter()
            .map(|kv| (kv.key, kv.value.map_or(AnyValue::Other, json_value)))
            .collect()
    };
    let nanos = |t: Option<json::Int>| {
        t.and_then(|t| t.value())
            .and_then(|n| u64::try_from(n).ok())
            .unwrap_or(0)
    };
    let mut records = Vec::new();
    for resource_logs in request.resource_logs {
        let resource = attrs(resource_logs.resource.unwrap_or_default().attributes);
        for scope in resource_logs.scope_logs {
            for record in scope.log_records {
                records.push(LogRecord {
                    time_unix_nano: pick_time(
                        nanos(record.time_unix_nano),
                        nanos(record.observed_time_unix_nano),
                    ),
                    body: record.body.map(json_value),
                    attributes: attrs(record.attributes),
                    resource: resource.clone(),
                });
            }
        }
    }
    records
}

fn json_value(value: json::AnyValue) -> AnyValue {
    if let Some(s) = value.string_value {
        AnyValue::String(s)
    } else if let Some(b) = value.bool_value {
        AnyValue::Bool(b)
    } else if let Some(n) = value.int_value {
        match n.value().and_then(|n| i64::try_from(n).ok()) {
            Some(n) => AnyValue::Int(n),
            None => AnyValue::Other,
        }
    } else if let Some(d) = value.double_value {
        match d {
            json::Double::Number(d) => AnyValue::Double(d),
            json::Double::Text(_) => AnyValue::Other,
        }
    } else {
        AnyValue::Other
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message;

    /// The logs example of the OTLP spec's JSON encoding, trimmed to one
    /// record: ids in hex, a string time, a string int.
    const OTLP_EXAMPLE_JSON: &str = r#"{
      "resourceLogs": [{
        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "my.service"}}]},
        "scopeLogs": [{
          "scope": {"name": "my.library", "version": "1.0.0"},
          "logRecords": [{
            "timeUnixNano": "1544712660300000000",
            "observedTimeUnixNano": "1544712660300000000",
            "severityNumber": 10,
            "severityText": "Information",
            "traceId": "5B8EFFF798038103D269B633813FC60C",
            "spanId": "EEE19B7EC3C1B174",
            "body": {"stringValue": "Example log record"},
            "attributes": [
              {"key": "string.attribute", "value": {"stringValue": "some string"}},
              {"key": "boolean.attribute", "value": {"boolValue": true}},
              {"key": "int.attribute", "value": {"intValue": "10"}},
              {"key": "double.attribute", "value": {"doubleValue": 637.704}},
              {"key": "array.attribute", "value": {"arrayValue": {"values": [{"stringValue": "many"}]}}},
              {"key": "map.attribute", "value": {"kvlistValue": {"values": [{"key": "some.map.key", "value": {"stringValue": "some value"}}]}}}
            ]
          }]
        }]
      }]
    }"#;

    fn spec_record() -> LogRecord {
        let s = |v: &str| AnyValue::String(v.into());
        LogRecord {
            time_unix_nano: 1_544_712_660_300_000_000,
            body: Some(s("Example log record")),
            attributes: vec![
                ("string.attribute".into(), s("some string")),
                ("boolean.attribute".into(), AnyValue::Bool(true)),
                ("int.attribute".into(), AnyValue::Int(10)),
                ("double.attribute".into(), AnyValue::Double(637.704)),
                ("array.attribute".into(), AnyValue::Other),
                ("map.attribute".into(), AnyValue::Other),
            ],
            resource: vec![("service.name".into(), s("my.service"))],
        }
    }

    #[test]
    fn the_otlp_json_example_decodes() {
        let records = decode(OTLP_EXAMPLE_JSON.as_bytes(), Encoding::Json).unwrap();
        assert_eq!(records, vec![spec_record()]);
    }

    #[test]
    fn the_same_export_in_protobuf_decodes_alike() {
        let kv = |key: &str, value: wire::Value| wire::KeyValue {
            key: key.into(),
            value: Some(wire::AnyValue { value: Some(value) }),
        };
        let request = wire::ExportLogsServiceRequest {
            resource_logs: vec![wire::ResourceLogs {
                resource: Some(wire::Resource {
                    attributes: vec![kv(
                        "service.name",
                        wire::Value::StringValue("my.service".into()),
                    )],
                }),
                scope_logs: vec![wire::ScopeLogs {
                    log_records: vec![wire::LogRecord {
                        time_unix_nano: 1_544_712_660_300_000_000,
                        observed_time_unix_nano: 0,
                        body: Some(wire::AnyValue {
                            value: Some(wire::Value::StringValue("Example log record".into())),
                        }),
                        attributes: vec![
                            kv(
                                "string.attribute",
                                wire::Value::StringValue("some string".into()),
                            ),
                            kv("boolean.attribute", wire::Value::BoolValue(true)),
                            kv("int.attribute", wire::Value::IntValue(10)),
                            kv("double.attribute", wire::Value::DoubleValue(637.704)),
                            wire::KeyValue {
                                key: "array.attribute".into(),
                                value: Some(wire::AnyValue { value: None }),
                            },
                            wire::KeyValue {
                                key: "map.attribute".into(),
                                value: None,
                            },
                        ],
                    }],
                }],
            }],
        };
        let records = decode(&request.encode_to_vec(), Encoding::Protobuf).unwrap();
        assert_eq!(records, vec![spec_record()]);
    }

    #[test]
    fn integers_as_numbers_and_missing_times_are_read() {
        let body = r#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[
            {"observedTimeUnixNano": 5, "attributes":[{"key":"n","value":{"intValue": 7}}]}]}]}]}"#;
        let records = decode(body.as_bytes(), Encoding::Json).unwrap();
        assert_eq!(records[0].time_unix_nano, 5);
        assert_eq!(records[0].attributes, vec![("n".into(), AnyValue::Int(7))]);
        assert_eq!(decode(b"{}", Encoding::Json).unwrap(), vec![]);
    }

    #[test]
    fn malformed_bodies_are_errors() {
        assert!(matches!(
            decode(b"{\"resourceLogs\": 3}", Encoding::Json),
            Err(DecodeError::Json(_))
        ));
        assert!(matches!(
            decode(b"\x0a\xff\xff\xff", Encoding::Protobuf),
            Err(DecodeError::Protobuf(_))
        ));
    }

    #[test]
    fn a_gzip_bomb_stops_at_the_limit() {
        use std::io::Write;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gz.write_all(&vec![0u8; 10 * 1024 * 1024]).unwrap();
        let bomb = gz.finish().unwrap();
        assert!(bomb.len() < 64 * 1024);
        assert!(matches!(
            gunzip(&bomb, 1024 * 1024),
            Err(DecodeError::Inflated { limit: 1048576 })
        ));
        assert_eq!(
            gunzip(&bomb, 10 * 1024 * 1024).unwrap().len(),
            10 * 1024 * 1024
        );
        assert!(matches!(
            gunzip(b"not gzip", 100),
            Err(DecodeError::Gzip(_))
        ));
    }

    proptest::proptest! {
        /// Any bytes, either encoding, gzipped or not: an answer, never a panic.
        #[test]
        fn any_body_decodes_or_is_an_error(body in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..512)) {
            let _ = decode(&body, Encoding::Protobuf);
            let _ = decode(&body, Encoding::Json);
            let _ = gunzip(&body, 1024);
        }

        /// Any export of records round-trips through protobuf.
        #[test]
        fn records_round_trip_through_protobuf(
            values in proptest::collection::vec((".{0,12}", proptest::prelude::any::<i64>()), 0..8),
            time in proptest::prelude::any::<u64>(),
        ) {
            let attributes: Vec<wire::KeyValue> = values
                .iter()
                .map(|(k, n)| wire::KeyValue {
                    key: k.clone(),
                    value: Some(wire::AnyValue { value: Some(wire::Value::IntValue(*n)) }),
                })
                .collect();
            let request = wire::ExportLogsServiceRequest {
                resource_logs: vec![wire::ResourceLogs {
                    resource: None,
                    scope_logs: vec![wire::ScopeLogs {
                        log_records: vec![wire::LogRecord {
                            time_unix_nano: time,
                            observed_time_unix_nano: 0,
                            body: None,
                            attributes,
                        }],
                    }],
                }],
            };
            let records = decode(&request.encode_to_vec(), Encoding::Protobuf).unwrap();
            let want: Vec<(String, AnyValue)> =
                values.iter().map(|(k, n)| (k.clone(), AnyValue::Int(*n))).collect();
            proptest::prop_assert_eq!(records.len(), 1);
            proptest::prop_assert_eq!(records[0].time_unix_nano, time);
            proptest::prop_assert_eq!(&records[0].attributes, &want);
        }
    }

    /// The real Codex's and Gemini CLI's exports (tests/fixtures/otel),
    /// decoded and mapped: one response per line of the mock's ledger,
    /// with its counts, the same from JSON and protobuf.
    #[test]
    fn the_real_codex_and_gemini_exports_map_to_their_ledgers() {
        use crate::collect::otel::{map, Mapped};
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/otel");
        let captures = [
            ("codex/text", &["json", "protobuf"][..]),
            ("codex/shell", &["json", "protobuf"][..]),
            ("gemini/text", &["json"][..]),
            ("gemini/tool", &["json"][..]),
        ];
        for (capture, encodings) in captures {
            let mut by_encoding = Vec::new();
            for encoding in encodings {
                let dir = root.join(capture).join(encoding);
                let mut responses = Vec::new();
                let mut paths: Vec<_> = std::fs::read_dir(&dir)
                    .unwrap()
                    .map(|e| e.unwrap().path())
                    .collect();
                paths.sort();
                for path in paths {
                    let name = path.file_name().unwrap().to_string_lossy().into_owned();
                    let encoding = if name.ends_with("-logs.json") {
                        Encoding::Json
                    } else if name.ends_with("-logs.bin") {
                        Encoding::Protobuf
                    } else {
                        continue;
                    };
                    let body = std::fs::read(&path).unwrap();
                    for record in decode(&body, encoding).unwrap() {
                        match map(&record) {
                            Mapped::Response(r) => responses.push(r),
                            Mapped::NoUsage => {}
                            other => panic!("{capture}/{name}: {other:?}"),
                        }
                    }
                }
                // The ledger's prompt and output, as the agent billed them.
                let ledger: Vec<(u64, u64)> = std::fs::read_to_string(dir.join("ledger.jsonl"))
                    .unwrap()
                    .lines()
                    .map(|line| {
                        let v: serde_json::Value = serde_json::from_str(line).unwrap();
                        let n = |k: &str| v[k].as_u64().unwrap();
                        if capture.starts_with("codex") {
                            (n("input_tokens"), n("output_tokens"))
                        } else {
                            (
                                n("prompt_tokens") + n("tool_use_prompt_tokens"),
                                n("candidates_tokens") + n("thoughts_tokens"),
                            )
                        }
                    })
                    .collect();
                let mapped: Vec<(u64, u64)> = responses
                    .iter()
                    .map(|r| (r.usage.input + r.usage.cache_read, r.usage.output))
                    .collect();
                assert_eq!(mapped, ledger, "{capture}/{encoding}");
                // Each encoding is its own run (its own session and times):
                // what they share is the model and the counts.
                let billed: Vec<_> = responses
                    .iter()
                    .map(|r| (r.model.clone(), r.usage))
                    .collect();
                assert!(
                    responses
                        .iter()
                        .all(|r| r.session_id == responses[0].session_id),
                    "{capture}/{encoding}: one session"
                );
                by_encoding.push(billed);
            }
            if let [json, protobuf] = &by_encoding[..] {
                assert_eq!(json, protobuf, "{capture}: json and protobuf differ");
            }
        }
    }
}
