//! Loads the typed [`Config`]: defaults < `kefu.toml` < `KEFU_*` environment variables.
//! (Flags are applied by the caller, last.)

use std::path::Path;

use anyhow::Context;
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use kefu_core::config::Config;

/// Reads the configuration; a missing file is not an error, a malformed one is.
pub fn load(file: &Path) -> anyhow::Result<Config> {
    // Only variables naming a configuration field are read: other KEFU_* variables (KEFU_LOG,
    // test and CI settings) are not configuration and must not fail start-up as unknown keys.
    let fields: Vec<String> = match serde_json::to_value(Config::default()) {
        Ok(serde_json::Value::Object(map)) => map.keys().cloned().collect(),
        _ => Vec::new(),
    };
    let fields: Vec<&str> = fields.iter().map(String::as_str).collect();
    Figment::from(Serialized::defaults(Config::default()))
        .merge(Toml::file(file))
        .merge(Env::prefixed("KEFU_").only(&fields))
        .extract()
        .with_context(|| {
            format!(
                "reading configuration ({} and KEFU_* variables)",
                file.display()
            )
        })
}

#[cfg(test)]
// figment's Jail API fixes the closure's error type; its size is not ours to choose.
#[allow(clippy::result_large_err)]
mod tests {
    use super::*;

    #[test]
    fn file_then_environment_override_defaults() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("kefu.toml", "bind = \"0.0.0.0:9000\"\nheartbeat_secs = 5\n")?;
            jail.set_env("KEFU_HEARTBEAT_SECS", "7");
            // Not a configuration field: ignored, not an error.
            jail.set_env("KEFU_SOMETHING_ELSE", "x");
            let config = load(Path::new("kefu.toml")).map_err(|e| e.to_string())?;
            assert_eq!(config.bind.port(), 9000);
            assert_eq!(config.heartbeat_secs, 7);
            assert_eq!(config.max_message_chars, 4000);
            Ok(())
        });
    }

    #[test]
    fn unknown_keys_are_refused() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("kefu.toml", "bnid = \"0.0.0.0:9000\"\n")?;
            assert!(load(Path::new("kefu.toml")).is_err());
            Ok(())
        });
    }
}
