//! create-subprocess-shell: exit status, a pipeline, quoting.
use procgate_guest::sync::create_subprocess_shell;
use procgate_guest::{Options, PIPE};

fn main() {
    let case = std::env::args().nth(1).unwrap_or_default();
    match case.as_str() {
        "exit7" => {
            let p = create_subprocess_shell("exit 7", Options::new()).unwrap();
            println!("returncode {}", p.wait().unwrap());
        }
        "pipeline" => {
            let mut p = create_subprocess_shell(
                "echo abc | tr a-c x-z; echo err >&2",
                Options::new().stdout(PIPE).stderr(PIPE),
            )
            .unwrap();
            let (out, err) = p.communicate(None).unwrap();
            println!("stdout {:?}", String::from_utf8(out.unwrap()).unwrap());
            println!("stderr {:?}", String::from_utf8(err.unwrap()).unwrap());
            println!("returncode {:?}", p.returncode());
        }
        other => panic!("unknown case {other}"),
    }
}
