//! [`PolicyBuilder`] shortcuts for the limits, one per key of a policy
//! file's `[limits]` table and named like it (`max_live`, `timeout_secs`,
//! `communicate_bytes`, ...), so code and file read the same.

use crate::builder::PolicyBuilder;
use std::time::Duration;

macro_rules! limit_keys {
    ($($key:ident: $ty:ty => $($field:ident).+ = $value:expr, $doc:literal;)*) => {
        impl PolicyBuilder {
            $(
                #[doc = concat!("Sets `limits.", stringify!($key), "`: ", $doc)]
                pub fn $key(mut self, $key: $ty) -> Self {
                    self.limits_mut().$($field).+ = $value;
                    self
                }
            )*
        }
    };
}

// One row per key: the rows are alike in shape only (a table, not repeated logic).
limit_keys! {
    max_live: usize => max_live = Some(max_live),
        "most children alive at once.";
    max_held: usize => max_held = Some(max_held),
        "most exited children whose handles the guest still holds.";
    max_spawns: u64 => max_spawns = Some(max_spawns),
        "most children started in the guest's lifetime.";
    timeout_secs: Duration => timeout = Some(timeout_secs),
        "wall-clock time per child (then SIGTERM to its group, SIGKILL after the grace).";
    kill_grace_secs: Duration => kill_grace = Some(kill_grace_secs),
        "time between SIGTERM and SIGKILL after a timeout.";
    communicate_bytes: usize => communicate_bytes = Some(communicate_bytes),
        "most bytes one `communicate` buffers per stream.";
    buffered_bytes: usize => buffered_bytes = Some(buffered_bytes),
        "most bytes all communicates of the guest hold at once.";
    max_arg_bytes: usize => max_arg_bytes = Some(max_arg_bytes),
        "most bytes of program name and arguments.";
    max_env_bytes: usize => max_env_bytes = Some(max_env_bytes),
        "most bytes of a child's environment.";
    cpu_secs: u64 => os.cpu_secs = Some(cpu_secs),
        "`RLIMIT_CPU` of each child, in seconds.";
    address_space_bytes: u64 => os.address_space = Some(address_space_bytes),
        "`RLIMIT_AS` of each child, in bytes.";
    open_files: u64 => os.open_files = Some(open_files),
        "`RLIMIT_NOFILE` of each child.";
    processes: u64 => os.processes = Some(processes),
        "`RLIMIT_NPROC` of each child.";
    no_new_privs: bool => os.no_new_privs = no_new_privs,
        "`PR_SET_NO_NEW_PRIVS` in each child.";
}

#[cfg(test)]
mod tests {
    use crate::{Policy, PolicyFile};
    use std::time::Duration;

    /// Every key of `[limits]` has its shortcut, setting the same field.
    #[test]
    fn shortcuts_match_the_file_keys() {
        let file = PolicyFile::parse(
            "[limits]\nmax_live = 1\nmax_held = 2\nmax_spawns = 3\ntimeout_secs = 4\n\
             kill_grace_secs = 5\ncommunicate_bytes = 6\nbuffered_bytes = 7\n\
             max_arg_bytes = 8\nmax_env_bytes = 9\ncpu_secs = 10\naddress_space_bytes = 11\n\
             open_files = 12\nprocesses = 13\nno_new_privs = true\n",
            "limits.toml",
        )
        .unwrap();
        let from_file = file.into_builder(".".as_ref()).build().unwrap();
        let in_code = Policy::builder()
            .max_live(1)
            .max_held(2)
            .max_spawns(3)
            .timeout_secs(Duration::from_secs(4))
            .kill_grace_secs(Duration::from_secs(5))
            .communicate_bytes(6)
            .buffered_bytes(7)
            .max_arg_bytes(8)
            .max_env_bytes(9)
            .cpu_secs(10)
            .address_space_bytes(11)
            .open_files(12)
            .processes(13)
            .no_new_privs(true)
            .build()
            .unwrap();
        assert_eq!(from_file.limits(), in_code.limits());
    }
}
