//! How a program is written: the one rule every program entry (allow,
//! ask, deny) and every request follows. A bare name is looked up on the
//! policy's search path; an absolute path is taken as it is; anything
//! else (empty, or a relative path, which would be looked up from the
//! child's working directory) can never name a program.

/// How a program entry or request is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Spelling {
    /// A bare name (no `/`): looked up on the search path.
    Name,
    /// An absolute path.
    Absolute,
    /// Empty: names nothing.
    Empty,
    /// A relative path with a `/` (`bin/sh`, `./x`): never allowed.
    Relative,
}

impl Spelling {
    /// How `written` is spelled.
    pub(crate) fn of(written: &str) -> Spelling {
        if written.is_empty() {
            Spelling::Empty
        } else if written.starts_with('/') {
            Spelling::Absolute
        } else if written.contains('/') {
            Spelling::Relative
        } else {
            Spelling::Name
        }
    }

    /// Whether it can name a program: a bare name or an absolute path.
    pub(crate) fn names_a_program(self) -> bool {
        matches!(self, Spelling::Name | Spelling::Absolute)
    }
}

#[cfg(test)]
mod tests {
    use super::Spelling;

    /// The rule: a bare name or an absolute path; nothing else.
    #[test]
    fn a_bare_name_or_an_absolute_path() {
        for (written, spelling) in [
            ("ls", Spelling::Name),
            ("python*", Spelling::Name),
            ("/bin/ls", Spelling::Absolute),
            ("/opt/tools/", Spelling::Absolute),
            ("", Spelling::Empty),
            ("bin/sh", Spelling::Relative),
            ("./ls", Spelling::Relative),
            ("../bin/ls", Spelling::Relative),
        ] {
            assert_eq!(Spelling::of(written), spelling, "{written:?}");
            let ok = matches!(spelling, Spelling::Name | Spelling::Absolute);
            assert_eq!(spelling.names_a_program(), ok, "{written:?}");
        }
    }
}
