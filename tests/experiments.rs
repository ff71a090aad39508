use shrinkcity::config;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn scenario_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("config/scenarios")
}

/// Every leaf of a TOML value as `dotted.key -> value`.
fn flatten(prefix: &str, value: &toml::Value, out: &mut BTreeMap<String, toml::Value>) {
    match value {
        toml::Value::Table(t) => {
            for (k, v) in t {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&key, v, out);
            }
        }
        v => {
            out.insert(prefix.to_string(), v.clone());
        }
    }
}

fn leaves(value: &toml::Value) -> BTreeMap<String, toml::Value> {
    let mut out = BTreeMap::new();
    flatten("", value, &mut out);
    out
}

#[test]
fn every_scenario_loads_and_differs_from_the_baseline_only_where_it_says() {
    let baseline = leaves(&toml::Value::try_from(config::baseline()).unwrap());
    for name in [
        "diversification",
        "urban_quality",
        "digital",
        "public_services",
        "business_environment",
        "combined",
    ] {
        let path = scenario_dir().join(format!("{name}.toml"));
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with('#'), "{name}: opens with its hypothesis");
        assert!(text.contains("Hypothesis:"), "{name}: states a hypothesis");
        let own: toml::Table = text.parse().unwrap();
        assert_eq!(own.get("base").and_then(|b| b.as_str()), Some("baseline"));
        let mut declared = leaves(&toml::Value::Table(own));
        declared.remove("base");

        let loaded = config::load(Some(&path), &[]).unwrap();
        let resolved = leaves(&toml::Value::try_from(&loaded.config).unwrap());
        assert_eq!(
            resolved.keys().collect::<Vec<_>>(),
            baseline.keys().collect::<Vec<_>>()
        );
        let changed: Vec<&String> = resolved
            .iter()
            .filter(|(k, v)| baseline[*k] != **v)
            .map(|(k, _)| k)
            .collect();
        assert_eq!(
            changed,
            declared.keys().collect::<Vec<_>>(),
            "{name}: the keys that differ from the baseline are exactly the keys it sets"
        );
        assert_eq!(loaded.config.run.name, name);
        for key in declared.keys().filter(|k| *k != "run.name") {
            assert!(key.starts_with("policy."), "{name} sets {key}: not a lever");
        }
    }
}
