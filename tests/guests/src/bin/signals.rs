//! kill, terminate, send-signal, and signalling after exit.
use procgate_guest::sync::create_subprocess_exec;
use procgate_guest::{Options, Signal};

fn sleeper() -> procgate_guest::sync::Process {
    create_subprocess_exec("sleep", ["1000"], Options::new()).unwrap()
}

fn main() {
    let case = std::env::args().nth(1).unwrap_or_default();
    match case.as_str() {
        "kill" => {
            let p = sleeper();
            println!("running {:?}", p.returncode());
            p.kill().unwrap();
            println!("rc {}", p.wait().unwrap());
        }
        "kill-denied" => {
            let p = sleeper();
            println!("kill {:?}", p.kill());
            p.terminate().unwrap();
            println!("rc {}", p.wait().unwrap());
        }
        "terminate" => {
            let p = sleeper();
            p.terminate().unwrap();
            println!("rc {}", p.wait().unwrap());
        }
        "hup" => {
            let p = sleeper();
            p.send_signal(Signal::Hup).unwrap();
            println!("rc {}", p.wait().unwrap());
        }
        "after-exit" => {
            let p = create_subprocess_exec("true", [""; 0], Options::new()).unwrap();
            println!("rc {}", p.wait().unwrap());
            println!("kill {:?}", p.kill());
            println!("terminate {:?}", p.terminate());
            println!("send_signal {:?}", p.send_signal(Signal::Usr1));
        }
        other => panic!("unknown case {other}"),
    }
}
