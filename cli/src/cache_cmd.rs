//! `procgate compile` and `procgate cache list|clean|dir`: the
//! compiled-component cache seen from the command line. The cache itself,
//! and every check that makes its entries trustworthy, is
//! [`procgate::cache`].

use crate::args::CacheCommand;
use crate::exit::{fail, Failure, OrExit, HOST, USAGE};
use crate::units::show_size;
use procgate::cache::{ComponentCache, LoadStep};
use std::path::PathBuf;
use std::time::SystemTime;

/// The variable that bounds the cache's size (`2G`, `500M`).
pub const SIZE_VAR: &str = "PROCGATE_CACHE_SIZE";

/// The cache `procgate` uses: its default directory, bounded by
/// `$PROCGATE_CACHE_SIZE` (default [`procgate::cache::DEFAULT_MAX_BYTES`]).
pub fn cache() -> Result<ComponentCache, Failure> {
    let cache = ComponentCache::new(ComponentCache::default_dir());
    match std::env::var(SIZE_VAR) {
        Err(_) => Ok(cache),
        Ok(text) => {
            let bytes = procgate::policy::parse_size(&text)
                .map_err(|e| fail(USAGE, format!("{SIZE_VAR}: {e}")))?;
            Ok(cache.with_max_bytes(bytes))
        }
    }
}

/// The reason there is no cache.
const NO_DIR: &str = "no cache directory: PROCGATE_CACHE_DIR, XDG_CACHE_HOME and HOME are unset";

fn dir(cache: &ComponentCache) -> Result<PathBuf, Failure> {
    cache
        .dir()
        .map(PathBuf::from)
        .ok_or_else(|| fail(HOST, NO_DIR))
}

/// Starts a plain log on stderr for the cache's warnings.
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new(format!("{}=warn", procgate::cache::LOG_TARGET))
    });
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(filter)
        .with_target(false)
        .without_time()
        .init();
}

/// `procgate compile GUEST...`: each guest compiled into the cache (or
/// found there), and checked to be a command procgate can run.
pub fn compile(guests: &[PathBuf]) -> Result<i32, Failure> {
    init_logging();
    let cache = cache()?;
    let dir = dir(&cache)?;
    // Open it the way a load does, so a cache that is off says why.
    cache
        .entries()
        .map_err(|e| e.context(format!("the cache {} is not usable", dir.display())))
        .or_exit(HOST)?;
    let engine = procgate::runner::engine().or_exit(HOST)?;
    for path in guests {
        let mut compiled = None;
        let bytes = crate::guest::read(path)?;
        let component = crate::guest::compile_with(&engine, path, &bytes, &cache, |step| {
            if let LoadStep::Compiled { cached } = step {
                compiled = Some(cached);
            }
        })?;
        crate::guest::check_command(&engine, path, &component)?;
        procgate::runner::Runner::new(&engine, &component)
            .map_err(|e| crate::guest::link_failure(path, e))?;
        let what = match compiled {
            None => "already cached".to_string(),
            Some(true) => "compiled and cached".to_string(),
            Some(false) => format!(
                "compiled, but not cached: larger than the cache's bound of {} \
                 ({SIZE_VAR}), or the warning above says why",
                show_size(cache.max_bytes())
            ),
        };
        println!("{}: {what}", path.display());
    }
    Ok(0)
}

/// `procgate cache list|clean|dir`.
pub fn command(command: &CacheCommand) -> Result<i32, Failure> {
    init_logging();
    let cache = cache()?;
    let dir = dir(&cache)?;
    match command {
        CacheCommand::Dir => println!("{}", dir.display()),
        CacheCommand::List => {
            let entries = cache.entries().or_exit(HOST)?;
            let total: u64 = entries.iter().map(|e| e.bytes).sum();
            println!(
                "{}: {} {}, {} of {} ({SIZE_VAR})",
                dir.display(),
                entries.len(),
                if entries.len() == 1 {
                    "entry"
                } else {
                    "entries"
                },
                show_size(total),
                show_size(cache.max_bytes())
            );
            for e in entries {
                println!(
                    "{:>9}  {:>14}  {}",
                    show_size(e.bytes),
                    ago(e.last_used),
                    e.name
                );
            }
        }
        CacheCommand::Clean => {
            let (n, bytes) = cache.clean().or_exit(HOST)?;
            println!(
                "removed {n} {} ({}) from {}",
                if n == 1 { "entry" } else { "entries" },
                show_size(bytes),
                dir.display()
            );
        }
    }
    Ok(0)
}

/// `used 3 min ago`, in the largest whole unit.
fn ago(t: SystemTime) -> String {
    let secs = SystemTime::now()
        .duration_since(t)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let (n, unit) = match secs {
        s if s < 60 => (s, "s"),
        s if s < 3600 => (s / 60, "min"),
        s if s < 86400 => (s / 3600, "h"),
        s => (s / 86400, "days"),
    };
    format!("used {n} {unit} ago")
}
