//! A real `redis-server` for the RedisStore tests: started on 127.0.0.1 on
//! a free port (plain, or TLS with a throw-away CA made by the `openssl`
//! command) and on a unix socket, without persistence, killed when the
//! handle is dropped. A missing `redis-server` (or `openssl`, for TLS) fails
//! the test with a clear message: `make test-redis` installs them.
#![allow(dead_code)]

pub mod cluster;
pub mod sentinel;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// One running (or stopped, between `kill` and `start`) redis-server.
pub struct RedisServer {
    child: Option<Child>,
    port: u16,
    tls: bool,
    dir: tempfile::TempDir,
    extra: Vec<String>,
}

impl RedisServer {
    /// Starts a server on a free port and waits until it answers PING.
    pub fn start() -> Self {
        Self::start_with(false)
    }

    /// Starts a server that speaks only TLS on its TCP port, with a
    /// certificate for 127.0.0.1 signed by a CA made for it ([`Self::ca_pem`]).
    pub fn start_tls() -> Self {
        Self::start_with(true)
    }

    /// Starts a plain server with more command-line arguments; `args`
    /// gets the server's port and directory (to name files in it).
    pub fn start_args(args: impl FnOnce(u16, &Path) -> Vec<String>) -> Self {
        let port = free_port();
        let dir = tempfile::tempdir().expect("a temporary directory for redis-server");
        let extra = args(port, dir.path());
        let mut server = RedisServer {
            child: None,
            port,
            tls: false,
            dir,
            extra,
        };
        server.restart();
        server
    }

    fn start_with(tls: bool) -> Self {
        let mut server = RedisServer {
            child: None,
            port: free_port(),
            tls,
            dir: tempfile::tempdir().expect("a temporary directory for redis-server"),
            extra: Vec::new(),
        };
        if tls {
            make_certificates(server.dir.path());
        }
        server.restart();
        server
    }

    /// `redis://127.0.0.1:PORT/`, or `rediss://...` for a TLS server.
    pub fn url(&self) -> String {
        let scheme = if self.tls { "rediss" } else { "redis" };
        format!("{scheme}://127.0.0.1:{}/", self.port)
    }

    /// The PEM of the CA that signed a TLS server's certificate.
    pub fn ca_pem(&self) -> Vec<u8> {
        std::fs::read(self.dir.path().join("ca.crt")).expect("the test CA")
    }

    /// `redis+unix:///.../redis.sock`
    pub fn unix_url(&self) -> String {
        format!("redis+unix://{}", self.socket().display())
    }

    /// The TCP port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The server's process id.
    pub fn pid(&self) -> i32 {
        self.child.as_ref().expect("redis-server is running").id() as i32
    }

    /// True while the server runs (not killed).
    pub fn is_running(&self) -> bool {
        self.child.is_some()
    }

    /// The server's own directory.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// A plain connection to the server (for the tests' own commands).
    pub fn connection(&self) -> redis::Connection {
        let client = redis::Client::open(format!("redis://127.0.0.1:{}/", self.port)).unwrap();
        let con = client
            .get_connection_with_timeout(Duration::from_secs(5))
            .expect("connecting to a test redis-server");
        con.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        con
    }

    fn socket(&self) -> PathBuf {
        self.dir.path().join("redis.sock")
    }

    /// Kills the server (SIGKILL: no clean shutdown) and waits for it.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same port (empty: nothing persisted).
    pub fn restart(&mut self) {
        self.kill();
        let mut command = Command::new(redis_server());
        let port = self.port.to_string();
        if self.tls {
            let file = |name: &str| self.dir.path().join(name);
            command
                .args([
                    "--port",
                    "0",
                    "--tls-port",
                    &port,
                    "--tls-auth-clients",
                    "no",
                ])
                .arg("--tls-cert-file")
                .arg(file("server.crt"))
                .arg("--tls-key-file")
                .arg(file("server.key"))
                .arg("--tls-ca-cert-file")
                .arg(file("ca.crt"));
        } else {
            command.args(["--port", &port]);
        }
        command
            .args(["--bind", "127.0.0.1"])
            .arg("--unixsocket")
            .arg(self.socket())
            .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
            .arg("--dir")
            .arg(self.dir.path())
            .args(&self.extra)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        // SAFETY: prctl is async-signal-safe; it makes the kernel kill the
        // server if the test thread that started it dies without dropping it.
        unsafe {
            command.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                Ok(())
            });
        }
        let child = command.spawn().expect("starting redis-server");
        self.child = Some(child);
        self.wait_ready();
    }

    /// Freezes the server (SIGSTOP): it accepts connections but answers nothing.
    pub fn pause(&self) {
        signal(self.pid(), libc::SIGSTOP);
    }

    /// Lets a paused server run again (SIGCONT).
    pub fn resume(&self) {
        signal(self.pid(), libc::SIGCONT);
    }

    fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if ping(&self.socket()) && port_open(self.port) {
                return;
            }
            let child = self.child.as_mut().expect("redis-server was started");
            if let Some(status) = child.try_wait().expect("waiting for redis-server") {
                let mut err = String::new();
                if let Some(mut stderr) = child.stderr.take() {
                    let _ = stderr.read_to_string(&mut err);
                }
                panic!("redis-server exited at start ({status}): {err}");
            }
            assert!(
                Instant::now() < deadline,
                "redis-server did not answer on port {} within 10 s",
                self.port
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        // A paused server must run again to die of anything but SIGKILL;
        // SIGKILL works either way.
        self.kill();
    }
}

fn signal(pid: i32, sig: libc::c_int) {
    // SAFETY: kill(2) on the pid of a child we own.
    let rc = unsafe { libc::kill(pid, sig) };
    assert_eq!(rc, 0, "kill({pid}, {sig})");
}

/// True when the server answers `PING` with `+PONG` on its unix socket
/// (plain even when the TCP port speaks TLS).
fn ping(socket: &Path) -> bool {
    let Ok(mut stream) = UnixStream::connect(socket) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
    let mut reply = [0u8; 7];
    stream.write_all(b"PING\r\n").is_ok()
        && stream.read_exact(&mut reply).is_ok()
        && &reply == b"+PONG\r\n"
}

/// True when something accepts connections on 127.0.0.1:`port`.
fn port_open(port: u16) -> bool {
    std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
}

/// A CA (`ca.crt`) and a certificate for 127.0.0.1 signed by it
/// (`server.crt`, `server.key`) in `dir`, made with the `openssl` command.
fn make_certificates(dir: &Path) {
    let openssl = |args: &[&str]| {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot run openssl ({e}): the TLS tests need it to make certificates. \
                     Install it with `apt-get install -y openssl` (`make test-redis` does)."
                )
            });
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let subj = |cn: &str| format!("/CN={cn}");
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
        "-subj",
        &subj("spysession test CA"),
    ]);
    openssl(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        "-subj",
        &subj("127.0.0.1"),
    ]);
    std::fs::write(
        dir.join("ext.cnf"),
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    openssl(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "2",
        "-out",
        "server.crt",
        "-extfile",
        "ext.cnf",
    ]);
}

/// Polls `check` every 20 ms until it is true; panics naming `what` after `limit`.
pub fn wait_until(what: &str, limit: Duration, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !check() {
        assert!(Instant::now() < deadline, "{what}: not within {limit:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A port nothing listens on now (the OS picks it for a listener we drop).
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("binding 127.0.0.1:0");
    listener.local_addr().unwrap().port()
}

/// The redis-server executable, on PATH or where Debian puts it.
pub fn redis_server() -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/bin", "/usr/sbin", "/usr/local/bin"].map(PathBuf::from))
        .map(|dir| dir.join("redis-server"))
        .find(|p| is_executable(p))
        .unwrap_or_else(|| {
            panic!(
                "redis-server not found on PATH: the RedisStore tests need a real Redis. \
                 Install it with `apt-get install -y redis-server` (`make test-redis` does)."
            )
        })
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

/// One `T` for the whole test binary, started by a thread that never ends:
/// the servers die with the process (PR_SET_PDEATHSIG follows the thread
/// that started them), not with the first test that asked for them.
pub fn shared<T: Send + Sync + 'static>(
    cell: &'static std::sync::OnceLock<T>,
    start: fn() -> T,
) -> &'static T {
    cell.get_or_init(|| {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            tx.send(start()).unwrap();
            loop {
                std::thread::park();
            }
        });
        rx.recv().expect("starting the shared servers")
    })
}

/// A prefix no other test of this process uses.
pub fn unique_prefix(tag: &str) -> String {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("{tag}{n}:")
}
