//! OAuth2 scopes: what a token lets its bearer do.

use std::collections::BTreeSet;
use std::fmt;

/// A scope latchkey knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Scope {
    /// Read information about the current user.
    Me,
    /// Read items.
    Items,
}

impl Scope {
    /// Every scope, in the order they are shown.
    pub(crate) const ALL: [Scope; 2] = [Scope::Me, Scope::Items];

    /// The scope's name on the wire.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Scope::Me => "me",
            Scope::Items => "items",
        }
    }

    /// The description shown in the OpenAPI document (the FastAPI app's words).
    pub(crate) fn description(self) -> &'static str {
        match self {
            Scope::Me => "Read information about the current user.",
            Scope::Items => "Read items.",
        }
    }

    /// The scope with this exact name, if any.
    pub(crate) fn from_name(name: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|s| s.as_str() == name)
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A set of scopes, written space-separated on the wire and in the store.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ScopeSet(BTreeSet<Scope>);

/// A scope name that latchkey does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown scope: {0}")]
pub(crate) struct UnknownScope(pub String);

impl ScopeSet {
    /// All scopes latchkey has.
    pub(crate) fn all() -> Self {
        Self(Scope::ALL.into_iter().collect())
    }

    /// Parses space-separated scope names; any unknown name is an error.
    pub(crate) fn parse(text: &str) -> Result<Self, UnknownScope> {
        Self::parse_names(text.split_whitespace())
    }

    /// Parses scope names; any unknown name is an error.
    pub(crate) fn parse_names<'a>(
        names: impl IntoIterator<Item = &'a str>,
    ) -> Result<Self, UnknownScope> {
        names
            .into_iter()
            .map(|name| Scope::from_name(name).ok_or_else(|| UnknownScope(name.to_owned())))
            .collect::<Result<_, _>>()
            .map(Self)
    }

    /// Keeps the known scope names and drops the rest (for tokens from other issuers).
    pub(crate) fn from_names_lenient<'a>(names: impl IntoIterator<Item = &'a str>) -> Self {
        Self(names.into_iter().filter_map(Scope::from_name).collect())
    }

    /// Whether the set holds `scope`.
    pub(crate) fn contains(&self, scope: Scope) -> bool {
        self.0.contains(&scope)
    }

    /// Whether the set is empty.
    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The scopes in both sets.
    pub(crate) fn intersection(&self, other: &ScopeSet) -> ScopeSet {
        Self(self.0.intersection(&other.0).copied().collect())
    }

    /// The scopes, in order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = Scope> + '_ {
        self.0.iter().copied()
    }

    /// The scope names, in order.
    pub(crate) fn names(&self) -> Vec<String> {
        self.iter().map(|s| s.as_str().to_owned()).collect()
    }
}

impl FromIterator<Scope> for ScopeSet {
    fn from_iter<I: IntoIterator<Item = Scope>>(iter: I) -> Self {
        Self(iter.into_iter().collect())
    }
}

impl fmt::Display for ScopeSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.names().join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_space_separated_names_in_any_order() {
        let set = ScopeSet::parse("items  me").unwrap();
        assert_eq!(set.to_string(), "me items");
    }

    #[test]
    fn rejects_unknown_and_substring_names() {
        assert_eq!(ScopeSet::parse("me item"), Err(UnknownScope("item".into())));
        assert!(ScopeSet::parse("mee").is_err());
    }

    #[test]
    fn lenient_parse_drops_unknown_names() {
        let set = ScopeSet::from_names_lenient(["me", "admin", "ite"]);
        assert_eq!(set.names(), vec!["me"]);
    }
}
