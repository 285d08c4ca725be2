//! std's [`Command`]: the process builder, and what it hands the WIT.

use super::*;

/// A process builder: std's `Command`.
#[derive(Debug)]
pub struct Command {
    program: OsString,
    args: Vec<OsString>,
    /// What the guest set (`Some`) or removed (`None`).
    env: BTreeMap<OsString, Option<OsString>>,
    cwd: Option<PathBuf>,
    stdin: Option<Stdio>,
    stdout: Option<Stdio>,
    stderr: Option<Stdio>,
}

impl Command {
    /// A command for `program`, with no arguments, the policy's
    /// environment and working directory, and inherited stdio for `spawn`
    /// and `status`.
    pub fn new<S: AsRef<OsStr>>(program: S) -> Command {
        Command {
            program: program.as_ref().to_owned(),
            args: Vec::new(),
            env: BTreeMap::new(),
            cwd: None,
            stdin: None,
            stdout: None,
            stderr: None,
        }
    }

    /// Adds an argument.
    pub fn arg<S: AsRef<OsStr>>(&mut self, arg: S) -> &mut Command {
        self.args.push(arg.as_ref().to_owned());
        self
    }

    /// Adds arguments.
    pub fn args<I, S>(&mut self, args: I) -> &mut Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.args
            .extend(args.into_iter().map(|a| a.as_ref().to_owned()));
        self
    }

    /// Sets a variable in the child's environment (the policy must allow
    /// the name).
    pub fn env<K, V>(&mut self, key: K, val: V) -> &mut Command
    where
        K: AsRef<OsStr>,
        V: AsRef<OsStr>,
    {
        self.env
            .insert(key.as_ref().to_owned(), Some(val.as_ref().to_owned()));
        self
    }

    /// Sets variables in the child's environment.
    pub fn envs<I, K, V>(&mut self, vars: I) -> &mut Command
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<OsStr>,
        V: AsRef<OsStr>,
    {
        for (k, v) in vars {
            self.env(k, v);
        }
        self
    }

    /// Undoes [`env`](Command::env) for `key`. A variable the policy sets
    /// stays: the guest cannot remove it.
    pub fn env_remove<K: AsRef<OsStr>>(&mut self, key: K) -> &mut Command {
        self.env.insert(key.as_ref().to_owned(), None);
        self
    }

    /// Undoes every [`env`](Command::env): the child gets exactly the
    /// environment the policy builds (the guest's own environment is never
    /// passed on anyway).
    pub fn env_clear(&mut self) -> &mut Command {
        self.env.clear();
        self
    }

    /// The child's working directory: a guest path inside a directory the
    /// policy grants.
    pub fn current_dir<P: AsRef<Path>>(&mut self, dir: P) -> &mut Command {
        self.cwd = Some(dir.as_ref().to_owned());
        self
    }

    /// The child's stdin (default: inherit for `spawn`/`status`, null for
    /// `output`).
    pub fn stdin<T: Into<Stdio>>(&mut self, cfg: T) -> &mut Command {
        self.stdin = Some(cfg.into());
        self
    }

    /// The child's stdout (default: inherit for `spawn`/`status`, piped for
    /// `output`).
    pub fn stdout<T: Into<Stdio>>(&mut self, cfg: T) -> &mut Command {
        self.stdout = Some(cfg.into());
        self
    }

    /// The child's stderr (default: inherit for `spawn`/`status`, piped for
    /// `output`).
    pub fn stderr<T: Into<Stdio>>(&mut self, cfg: T) -> &mut Command {
        self.stderr = Some(cfg.into());
        self
    }

    /// The program.
    pub fn get_program(&self) -> &OsStr {
        &self.program
    }

    /// The arguments.
    pub fn get_args(&self) -> impl ExactSizeIterator<Item = &OsStr> {
        self.args.iter().map(OsString::as_os_str)
    }

    /// The variables set (`Some`) or removed (`None`) by the guest.
    pub fn get_envs(&self) -> impl ExactSizeIterator<Item = (&OsStr, Option<&OsStr>)> {
        self.env.iter().map(|(k, v)| (k.as_os_str(), v.as_deref()))
    }

    /// The working directory set, if any.
    pub fn get_current_dir(&self) -> Option<&Path> {
        self.cwd.as_deref()
    }

    /// The request: program, arguments and options, for the defaults
    /// `default` of stdio not set.
    pub(crate) fn request(&self, default: [fn() -> Stdio; 3]) -> io::Result<Request> {
        let program = utf8(&self.program, "program")?;
        let args = self
            .args
            .iter()
            .map(|a| utf8(a, "argument"))
            .collect::<io::Result<Vec<_>>>()?;
        let mut options = Options::new();
        for (k, v) in &self.env {
            if let Some(v) = v {
                options = options.env(utf8(k, "variable name")?, utf8(v, "variable value")?);
            }
        }
        if let Some(dir) = &self.cwd {
            options = options.cwd(utf8(dir.as_os_str(), "current_dir")?);
        }
        let [d_in, d_out, d_err] = default;
        let pick = |set: &Option<Stdio>, default: fn() -> Stdio| match set {
            Some(Stdio(StdioKind::From(h))) => Stdio(StdioKind::From(ProcessHandle(h.0.clone()))),
            Some(Stdio(StdioKind::Inherit)) => Stdio::inherit(),
            Some(Stdio(StdioKind::Piped)) => Stdio::piped(),
            Some(Stdio(StdioKind::Null)) => Stdio::null(),
            None => default(),
        };
        options = pick(&self.stdin, d_in).apply(options, Which::Stdin)?;
        options = pick(&self.stdout, d_out).apply(options, Which::Stdout)?;
        options = pick(&self.stderr, d_err).apply(options, Which::Stderr)?;
        Ok(Request {
            program,
            args,
            options,
        })
    }

    /// Starts the child; stdio not set is inherited.
    pub fn spawn(&mut self) -> io::Result<Child> {
        let request = self.request([Stdio::inherit; 3])?;
        Ok(Child::from_process(request.spawn_sync()?))
    }

    /// Runs the child to its end and collects its stdout and stderr (piped
    /// unless set; stdin is null unless set).
    pub fn output(&mut self) -> io::Result<Output> {
        let request = self.request([Stdio::null, Stdio::piped, Stdio::piped])?;
        Child::from_process(request.spawn_sync()?).wait_with_output()
    }

    /// Runs the child to its end with stdio inherited unless set.
    pub fn status(&mut self) -> io::Result<ExitStatus> {
        self.spawn()?.wait()
    }
}

/// A `Command` turned into what the WIT takes.
pub(crate) struct Request {
    program: String,
    args: Vec<String>,
    options: Options,
}

impl Request {
    pub(crate) fn spawn_sync(self) -> io::Result<Process> {
        let spawned = shared::spawn_exec(&self.program, &self.args, &self.options)?;
        Ok(Process::new(spawned))
    }
}

fn utf8(s: &OsStr, what: &str) -> io::Result<String> {
    s.to_str().map(str::to_owned).ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            HostError::InvalidArgument(format!("{what} {s:?} is not UTF-8")),
        )
    })
}
