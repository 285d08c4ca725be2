//! Declared capabilities: what the guest says it needs, written into its
//! own binary by [`declare!`](crate::declare!), for `procgate inspect` to
//! show and `procgate run` to check against the host's policy before the
//! guest starts. The host always wins: a declaration grants nothing.

/// The custom section that holds the declaration (`procgate:capabilities`).
pub const SECTION: &str = "procgate:capabilities";

/// The bytes of `text`, as an array of its length (for the section's
/// static).
#[doc(hidden)]
pub const fn bytes<const N: usize>(text: &str) -> [u8; N] {
    let src = text.as_bytes();
    let mut out = [0u8; N];
    let mut i = 0;
    while i < N {
        out[i] = src[i];
        i += 1;
    }
    out
}

/// Declares what the guest needs, as a policy file's text (TOML: the keys
/// of `docs/policy.md`; `procgate` reads programs, the shell, environment
/// names, directories, signals and limits). The text goes into the custom
/// section `procgate:capabilities` of the guest's binary; write it once
/// per program (two would be joined and read as one document).
///
/// ```
/// procgate_guest::declare!(
///     r#"
/// [programs]
/// allow = ["git"]
///
/// [env]
/// guest_may_set = ["GIT_AUTHOR_NAME"]
/// "#
/// );
/// ```
///
/// `procgate inspect guest.wasm` prints it; `procgate run` prints one line
/// per declared need its policy refuses, and how to allow it.
#[macro_export]
macro_rules! declare {
    ($toml:expr) => {
        const _: () = {
            const TEXT: &str = $toml;
            #[used]
            #[unsafe(link_section = "procgate:capabilities")]
            static DECLARATION: [u8; TEXT.len()] = $crate::declare::bytes::<{ TEXT.len() }>(TEXT);
        };
    };
}
