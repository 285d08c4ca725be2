//! Asking the host whether a spawn would be allowed, without starting
//! anything (the WIT `query-exec` and `query-shell`; Deno's
//! `permissions.query`): a plugin can find out what it may do and degrade
//! gracefully instead of failing.
//!
//! The answer is the policy's as of now: the embedder's hooks are not
//! asked (they may still refuse the real request), and a limit on live
//! processes or spawns may be reached by the time the guest asks for real.
//!
//! ```
//! use procgate_guest::query::{query_exec, query_shell};
//! use procgate_guest::{HostError, Options};
//!
//! match query_exec("git", ["status"], &Options::new()) {
//!     Ok(()) => println!("git status is allowed"),
//!     Err(HostError::Denied(rule)) => println!("no git: {rule}"),
//!     Err(e) => println!("no git: {e}"),
//! }
//! let shell = query_shell("true", &Options::new()).is_ok();
//! ```

use crate::bindings::procgate::subprocess::subprocess as wit_subprocess;
use crate::{HostError, Options};

/// Would `create_subprocess_exec(program, args, options)` be allowed?
/// `Ok(())`, or the error the request would get. The stdio options are
/// not looked at; the variables and `cwd` are.
pub fn query_exec<I, S>(program: &str, args: I, options: &Options) -> Result<(), HostError>
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let args: Vec<String> = args.into_iter().map(|a| a.as_ref().to_owned()).collect();
    let wit_options = options.to_wit()?;
    Ok(wit_subprocess::query_exec(program, &args, &wit_options)?)
}

/// Would `create_subprocess_shell(cmd, options)` be allowed? As
/// [`query_exec`].
pub fn query_shell(cmd: &str, options: &Options) -> Result<(), HostError> {
    let wit_options = options.to_wit()?;
    Ok(wit_subprocess::query_shell(cmd, &wit_options)?)
}
