//! `procgate run`: flags and the policy file turned into the library's
//! types, then [`procgate::runner`] does the rest. Each failure carries its
//! exit code ([`crate::exit`]).

use crate::args::RunArgs;
use crate::exit::{fail, Failure, OrExit, HOST, POLICY, TRAP, USAGE};
use crate::signals;
use anyhow::Context;
use procgate::cache::ComponentCache;
use procgate::runner::{engine, GuestLimits, RunEnd};
use procgate::{InheritedOutput, InheritedStdio, Policy, ProcgateCtx};
use std::path::PathBuf;

impl RunArgs {
    /// The guest file and its arguments (WASI arguments are UTF-8).
    fn guest(&self) -> Result<(PathBuf, Vec<String>), Failure> {
        let (guest, args) = self
            .guest_and_args
            .split_first()
            .ok_or_else(|| fail(USAGE, "no guest given"))?;
        let args = args
            .iter()
            .map(|a| a.clone().into_string())
            .collect::<Result<_, _>>()
            .map_err(|a| fail(USAGE, format!("guest argument {a:?} is not UTF-8")))?;
        Ok((PathBuf::from(guest), args))
    }
}

/// `--dir HOST[::GUEST][:ro]`: the host directory, the guest path, and
/// whether the grant is read-only.
fn split_dir(spec: &str) -> (PathBuf, String, bool) {
    let (spec, read_only) = match spec.strip_suffix(":ro") {
        Some(rest) => (rest, true),
        None => (spec, false),
    };
    match spec.split_once("::") {
        Some((host, guest)) => (PathBuf::from(host), guest.to_string(), read_only),
        None => (PathBuf::from(spec), spec.to_string(), read_only),
    }
}

/// Refuses a grant through which the guest or its children could write
/// the compiled-component cache, and so plant code a later run executes
/// (whether or not this run uses the cache).
fn refuse_grants_over_cache(cache: &ComponentCache, policy: &Policy) -> anyhow::Result<()> {
    let grants = policy.dirs().iter().map(|d| d.host.as_path());
    let writes = policy.sandbox().write.iter().map(PathBuf::as_path);
    for dir in grants.chain(writes) {
        if cache
            .overlaps(dir)
            .with_context(|| format!("{}", dir.display()))?
        {
            anyhow::bail!(
                "refusing to grant {}: it overlaps the compiled-component cache {}, where a \
                 guest could plant code the host runs; grant another directory or move the \
                 cache with PROCGATE_CACHE_DIR",
                dir.display(),
                cache.dir().unwrap_or(dir).display()
            );
        }
    }
    Ok(())
}

/// Runs the guest; its exit code, or a failure with procgate's own.
pub fn run(args: RunArgs) -> Result<i32, Failure> {
    args.policy.init_logging().or_exit(HOST)?;
    let (guest, guest_args) = args.guest()?;
    let learn = args
        .learn
        .as_deref()
        .map(crate::learn::Learning::start)
        .transpose()
        .or_exit(POLICY)?;
    let mut builder = match &learn {
        Some(learn) => learn.builder().or_exit(POLICY)?,
        None => args.policy.builder().map_err(|error| Failure {
            // An unknown --profile is a usage error; a broken file a policy one.
            code: match error.is::<crate::policy_flags::UnknownProfile>() {
                true => USAGE,
                false => POLICY,
            },
            error,
        })?,
    };
    let prompt = match args.prompt {
        true => Some(crate::prompt::Prompt::start(args.policy.policy_file())?),
        false => None,
    };
    if prompt.is_some() {
        builder = builder.default_ask(true);
    }
    let mut wasi = procgate::wasmtime_wasi::WasiCtx::builder();
    wasi.inherit_stdio();
    wasi.arg(guest.display().to_string());
    wasi.args(&guest_args);
    for spec in &args.guest.dirs {
        let (host, guest, read_only) = split_dir(spec);
        let perms = match read_only {
            true => procgate::wasmtime_wasi::FsPerms::ReadOnly,
            false => procgate::wasmtime_wasi::FsPerms::ReadWrite,
        };
        wasi.preopened_dir(&host, &guest, perms)
            .map_err(anyhow::Error::from)
            .with_context(|| format!("--dir {spec}"))
            .or_exit(USAGE)?;
        builder = match read_only {
            true => builder.dir_read_only(host, guest),
            false => builder.dir(host, guest),
        };
    }
    let policy = builder.build().context("policy").or_exit(POLICY)?;
    let grants: Vec<_> = policy
        .dirs()
        .iter()
        .map(|d| (d.host.clone(), d.guest.clone()))
        .collect();
    let cache = if args.guest.no_cache {
        ComponentCache::new(None)
    } else {
        crate::cache_cmd::cache()?
    };
    // The grant is refused even when this run does not use the cache.
    let default_cache = ComponentCache::new(ComponentCache::default_dir());
    refuse_grants_over_cache(&default_cache, &policy).or_exit(POLICY)?;
    if default_cache.dir().is_none() && !args.guest.no_cache {
        tracing::warn!(
            target: procgate::cache::LOG_TARGET,
            "not caching compiled components: no private cache directory \
             (PROCGATE_CACHE_DIR, XDG_CACHE_HOME and HOME are unset)"
        );
    }
    let engine = engine().or_exit(HOST)?;
    let component = crate::guest::load(&engine, &guest, &cache, &policy)?;
    let default_env = policy.default_env_names();
    let mut procgate = ProcgateCtx::new(policy);
    if let Some(prompt) = prompt {
        procgate = procgate.hooks(prompt.default_env(default_env));
    }
    if let Some(grace) = args.guest.kill_grace {
        procgate = procgate.kill_grace(grace);
    }
    let procgate = procgate.inherit(InheritedStdio {
        stdin_from_host: true,
        stdout: InheritedOutput::Host,
        stderr: InheritedOutput::Host,
    });
    let limits = GuestLimits {
        deadline: args.guest.deadline,
        max_memory: args.guest.max_memory,
    };
    // One guest, one thread: a current-thread runtime starts no worker
    // threads (a multi-thread one cost ~0.25 ms to build and more to shut
    // down). Nothing here blocks a runtime thread waiting for another
    // task: the prompt asks on `spawn_blocking`, a spawn waits for its
    // spawner thread, and the epoch ticker is a thread of its own.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .or_exit(HOST)?;
    let code = runtime.block_on(async move {
        let runner = crate::guest::runner(&engine, &guest, &component)?;
        // Never dropped: the process ends after this one guest, and the
        // kernel frees what the runner holds (the compiled code, its
        // registered unwind tables, the linker) faster than dropping it
        // would. Nothing the guest started depends on it: `run_until`
        // returns only once every child is ended and reaped.
        let runner: &'static _ = Box::leak(Box::new(runner));
        let wasi = wasi.build();
        let stop = signals::stopping()
            .context("installing signal handlers")
            .or_exit(HOST)?;
        // The guest runs in its own task: faster streams than on the main future.
        let end = tokio::spawn(async move { runner.run_until(wasi, procgate, limits, stop).await })
            .await
            .context("guest task")
            .or_exit(HOST)?
            // Whatever ends a started guest but its own exit is a trap:
            // wasm's, a host call's, or the deadline or memory limit.
            .map_err(|e| {
                let wasm_trap = format!("{e:?}").contains("wasm trap");
                Failure {
                    code: TRAP,
                    error: if wasm_trap {
                        e.context("the guest trapped")
                    } else {
                        e
                    },
                }
            })?;
        Ok(match end {
            RunEnd::Exited(code) => code,
            RunEnd::Cancelled(sig) => signals::exit_code(sig),
        })
    });
    // Learn mode writes what was recorded even when the guest trapped.
    if let Some(learn) = learn {
        learn.finish(&grants).or_exit(POLICY)?;
    }
    code
}
