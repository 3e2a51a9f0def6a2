//! What a failed lookup or validation returns.

use std::fmt;

/// Why [`Registry::validate`](crate::Registry::validate) refused a document.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SchemaError {
    /// No schema has this name; the second field lists the closest names, best first.
    #[error("unknown schema {0:?}{suggestions}", suggestions = did_you_mean(.1))]
    UnknownSchema(String, Vec<String>),
    /// The document breaks the schema; one entry per broken rule, in the order the validator
    /// found them.
    #[error("{violations}", violations = Violations(.0))]
    Invalid(Vec<Violation>),
}

impl SchemaError {
    /// The violations of an [`Invalid`](SchemaError::Invalid) error, empty otherwise.
    pub fn violations(&self) -> &[Violation] {
        match self {
            SchemaError::Invalid(violations) => violations,
            SchemaError::UnknownSchema(..) => &[],
        }
    }
}

/// One broken rule of a schema.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Violation {
    /// JSON pointer (RFC 6901) of the offending value, e.g. `/data/totalConcurrentNumber`;
    /// `""` is the whole document. For a missing required member, or a member that is not
    /// allowed, the pointer names that member (`/user_id`) although the document has no value
    /// there.
    pub instance_path: String,
    /// What is wrong, e.g. `2 is less than the minimum of 5`.
    pub message: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = if self.instance_path.is_empty() {
            "/"
        } else {
            &self.instance_path
        };
        write!(f, "{path}: {}", self.message)
    }
}

struct Violations<'a>(&'a [Violation]);

impl fmt::Display for Violations<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "document breaks its schema")?;
        for violation in self.0 {
            write!(f, "\n  {violation}")?;
        }
        Ok(())
    }
}

fn did_you_mean(suggestions: &[String]) -> String {
    if suggestions.is_empty() {
        String::new()
    } else {
        format!("; did you mean {}?", suggestions.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_lists_each_violation_on_its_own_line() {
        let error = SchemaError::Invalid(vec![
            Violation {
                instance_path: "/code".into(),
                message: "1 is not of type \"string\"".into(),
            },
            Violation {
                instance_path: String::new(),
                message: "\"success\" is a required property".into(),
            },
        ]);
        assert_eq!(
            error.to_string(),
            "document breaks its schema\n  /code: 1 is not of type \"string\"\n  /: \"success\" is a required property"
        );
    }

    #[test]
    fn unknown_schema_offers_the_suggestions() {
        let error =
            SchemaError::UnknownSchema("aui/login".into(), vec!["aui/login.request".into()]);
        assert_eq!(
            error.to_string(),
            "unknown schema \"aui/login\"; did you mean aui/login.request?"
        );
        assert!(error.violations().is_empty());
    }
}
