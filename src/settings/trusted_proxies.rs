//! `trusted_proxies` as operators write it: bare addresses (`"127.0.0.1"`,
//! `"::1"`) and networks (`"10.0.0.0/8"`), in a list or, from an environment
//! variable, one comma-separated string. An entry that is neither is refused,
//! named, when the settings are read.

use ipnet::IpNet;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::net::IpAddr;

/// The network `entry` names: itself, or the one address a bare address names.
pub(crate) fn parse_trusted_proxy(entry: &str) -> Result<IpNet, String> {
    let entry = entry.trim();
    entry
        .parse::<IpNet>()
        .or_else(|_| entry.parse::<IpAddr>().map(IpNet::from))
        .map_err(|_| {
            format!(
                "trusted_proxies: {entry:?} is neither an IP address nor a network; write \
                 \"127.0.0.1\", \"::1\" or \"10.0.0.0/8\""
            )
        })
}

/// Serde for `Settings::trusted_proxies` (`#[serde(with = ...)]`).
pub(crate) fn serialize<S: Serializer>(nets: &[IpNet], serializer: S) -> Result<S::Ok, S::Error> {
    nets.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .serialize(serializer)
}

/// A list of entries, or one string of comma-separated entries.
#[derive(Deserialize)]
#[serde(untagged)]
enum Written {
    List(Vec<String>),
    One(String),
}

/// Serde for `Settings::trusted_proxies` (`#[serde(with = ...)]`).
pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<IpNet>, D::Error> {
    let entries = match Written::deserialize(deserializer).map_err(|_| {
        serde::de::Error::custom(
            "trusted_proxies must be a list of addresses or networks, like \
             [\"127.0.0.1\", \"10.0.0.0/8\"]",
        )
    })? {
        Written::List(entries) => entries,
        Written::One(text) => text
            .split(',')
            .filter(|entry| !entry.trim().is_empty())
            .map(str::to_owned)
            .collect(),
    };
    entries
        .iter()
        .map(|entry| parse_trusted_proxy(entry).map_err(serde::de::Error::custom))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bare_address_is_the_network_of_that_address_alone() {
        assert_eq!(
            parse_trusted_proxy("127.0.0.1").unwrap(),
            "127.0.0.1/32".parse::<IpNet>().unwrap()
        );
        assert_eq!(
            parse_trusted_proxy("::1").unwrap(),
            "::1/128".parse::<IpNet>().unwrap()
        );
        assert_eq!(
            parse_trusted_proxy(" 10.0.0.0/8 ").unwrap(),
            "10.0.0.0/8".parse::<IpNet>().unwrap()
        );
    }

    #[test]
    fn anything_else_is_refused_by_name() {
        for entry in ["localhost", "10.0.0.0/33", "127.0.0.1:80", "", "1.2.3"] {
            let error = parse_trusted_proxy(entry).unwrap_err();
            assert!(error.contains(&format!("{:?}", entry.trim())), "{error}");
        }
    }

    #[test]
    fn one_string_holds_a_comma_separated_list() {
        let nets = deserialize(serde_json::json!("127.0.0.1, 10.0.0.0/8")).unwrap();
        assert_eq!(
            nets,
            vec![
                "127.0.0.1/32".parse::<IpNet>().unwrap(),
                "10.0.0.0/8".parse::<IpNet>().unwrap()
            ]
        );
        let list = deserialize(serde_json::json!(["::1"])).unwrap();
        assert_eq!(list, vec!["::1/128".parse::<IpNet>().unwrap()]);
        assert!(deserialize(serde_json::json!(42)).is_err());
    }
}
