//! The `tls-frontend` command line: `serve`, `check` and `demo` run the proxy; `matrix` shows
//! what each crypto backend in this build implements (after a known-answer self-test);
//! `calibrate` measures the backends and prints the `auto` profile; `selection` resolves a
//! selection file; `tickets rotate` manages the fleet's ticket keys.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use crypto_core::{Algorithm, Backend, Error, KxAlg, Nonce, support_matrix};
use tls_frontend::config::Config;
use tls_frontend::config::state::State;

#[derive(Parser)]
#[command(
    name = "tls-frontend",
    version,
    about = "TLS offload with a choice of crypto backend"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print the backend x algorithm support matrix, after a known-answer self-test of every
    /// supported AEAD, hash and key-agreement on every built backend.
    Matrix,
    /// Measure the backends on this CPU and print the `auto` selection as a profile file (the
    /// `[crypto]` text form, with the figures behind each choice as comments).
    Calibrate {
        /// Time budget for all measurements together, in milliseconds.
        #[arg(long, default_value_t = crypto_core::speed::DEFAULT_BUDGET.as_millis() as u64)]
        budget_ms: u64,
        /// Write the profile here (for `profile = "..."` in a config) instead of stdout.
        #[arg(long)]
        out: Option<std::path::PathBuf>,
    },
    /// Resolve a selection file (`backend = "auto" | "<name>"`, optional `profile`, overrides)
    /// and print the concrete selection it names.
    Selection {
        /// The selection text file.
        file: std::path::PathBuf,
    },
    /// Run the proxy.
    Serve {
        /// The TOML configuration file.
        #[arg(long)]
        config: std::path::PathBuf,
    },
    /// Validate a configuration (files, keys, certificates) and print what would run.
    Check {
        /// The TOML configuration file.
        #[arg(long)]
        config: std::path::PathBuf,
    },
    /// Generate demo certificates (RSA, ECDSA, SM2), start a demo upstream and the proxy in
    /// front of it, and print the commands that reach it; until Ctrl-C.
    Demo {
        /// Where the proxy listens.
        #[arg(long, default_value = "127.0.0.1:8443")]
        listen: String,
    },
    /// Measure every backend side by side: a table (rows: algorithm and size; columns:
    /// backends; best marked, ratios to the best), or JSON, and optionally an SVG bar chart.
    Speed {
        /// Comma-separated ids (`aes-128-gcm-seal`, `sm4-ctr`, `sm3`, `sm2-sign`, ...).
        #[arg(long)]
        algorithms: Option<String>,
        /// Comma-separated backends (`ring`, `aws-lc`, `rustcrypto`, `asm`, `libsm`,
        /// `openssl`, `auto`); default: every built one plus `auto`.
        #[arg(long)]
        backends: Option<String>,
        /// Seconds per figure.
        #[arg(long, default_value_t = 0.2)]
        seconds: f64,
        /// Split each figure's time into this many rounds, run round-robin over all figures;
        /// each figure keeps its best round (robust against a noisy shared machine).
        #[arg(long, default_value_t = 5)]
        rounds: u32,
        /// Print JSON (one object per figure) instead of the table.
        #[arg(long)]
        json: bool,
        /// Also write a bar chart here.
        #[arg(long)]
        svg: Option<std::path::PathBuf>,
        /// Comma-separated sizes in bytes for the throughput figures (multiples of 16);
        /// default 16, 1024, 16384.
        #[arg(long)]
        sizes: Option<String>,
    },
    /// A TLCP (GB/T 38636-2020) client: connect, send a request (default: HTTP GET /), print
    /// the reply; what was negotiated goes to stderr.
    TlcpClient {
        /// `host:port`.
        address: String,
        /// Server name to check and send (default: the address's host).
        #[arg(long)]
        name: Option<String>,
        /// PEM file with the SM2 root certificate(s) the server must chain to.
        #[arg(long, required_unless_present = "insecure")]
        ca: Option<std::path::PathBuf>,
        /// Do not check the server's certificates (tests only).
        #[arg(long)]
        insecure: bool,
        /// Comma-separated suites to offer (`ECC_SM4_GCM_SM3`, `ECC-SM2-SM4-CBC-SM3`, ...).
        #[arg(long)]
        suites: Option<String>,
        /// Client signing chain, signing key, encryption certificate and its key (PEM), for
        /// servers that ask (and the ECDHE suites).
        #[arg(long, num_args = 4, value_names = ["SIGN_CERT", "SIGN_KEY", "ENC_CERT", "ENC_KEY"])]
        credentials: Option<Vec<std::path::PathBuf>>,
        /// The request to send instead of an HTTP GET.
        #[arg(long)]
        request: Option<String>,
        /// Connect this many times in a row (sessions resume from the second on).
        #[arg(long, default_value_t = 1)]
        connections: usize,
        /// Backend for every algorithm (`auto` calibrates; default: the build's default).
        #[arg(long, default_value = "auto")]
        backend: String,
    },
    /// Session-ticket key files.
    Tickets {
        #[command(subcommand)]
        command: TicketsCommand,
    },
}

#[derive(Subcommand)]
enum TicketsCommand {
    /// Add a fresh key (it encrypts from the next reload on), keeping the newest `keep` in all.
    Rotate {
        /// The key file (created with mode 0600 if missing).
        file: std::path::PathBuf,
        /// Keys kept, the new one included: old tickets resume while their key is kept.
        #[arg(long, default_value_t = 3)]
        keep: usize,
    },
}

fn main() -> ExitCode {
    let result = match Cli::parse().command {
        Command::Matrix => matrix().map_err(|e| format!("self-test failed: {e}")),
        Command::Calibrate { budget_ms, out } => calibrate(budget_ms, out.as_deref()),
        Command::Selection { file } => selection(&file),
        Command::Serve { config } => serve(&config),
        Command::Check { config } => check_config(&config),
        Command::Demo { listen } => demo(&listen),
        Command::Speed {
            algorithms,
            backends,
            seconds,
            rounds,
            json,
            svg,
            sizes,
        } => speed(
            algorithms.as_deref(),
            backends.as_deref(),
            sizes.as_deref(),
            seconds,
            rounds,
            json,
            svg.as_deref(),
        ),
        Command::Tickets {
            command: TicketsCommand::Rotate { file, keep },
        } => tickets_rotate(&file, keep),
        Command::TlcpClient {
            address,
            name,
            ca,
            insecure,
            suites,
            credentials,
            request,
            connections,
            backend,
        } => tlcp_client(
            address,
            name,
            if insecure { None } else { ca },
            suites,
            credentials,
            request,
            connections,
            &backend,
        ),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tls-frontend: {e}");
            ExitCode::FAILURE
        }
    }
}

fn load(path: &std::path::Path) -> Result<State, String> {
    let config = Config::read(path).map_err(|e| e.0)?;
    State::load(config, None).map_err(|e| format!("{}: {e}", path.display()))
}

/// The calling thread's runtime: signals, the admin endpoint, the demo's upstream, the TLCP
/// client. Connections run on the worker threads `serve::run` starts.
fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("runtime: {e}"))
}

/// Raises the open-file soft limit to the hard limit (as nginx and HAProxy can) and warns when
/// the listeners' `max_connections` could need more descriptors than that: a relayed
/// connection holds two, its client's and its upstream's.
fn raise_open_file_limit(state: &State) {
    use tls_frontend::ops::log;
    let limit = match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(n) => n,
        Err(e) => {
            log::warn(&format!("open-file limit: {e}"));
            return;
        }
    };
    let need = state
        .listeners
        .iter()
        .map(|l| 2 * l.max_connections as u64)
        .sum::<u64>()
        + 64;
    if need > limit {
        log::warn(&format!(
            "max_connections over all listeners may need {need} open files, more than the limit of {limit}: lower max_connections or raise the hard limit"
        ));
    } else {
        log::info(&format!("open-file limit {limit}"));
    }
}

fn serve(path: &std::path::Path) -> Result<(), String> {
    let state = load(path)?;
    raise_open_file_limit(&state);
    let sockets = tls_frontend::serve::bind_all(&state).map_err(|e| e.0)?;
    let rt = runtime()?;
    rt.block_on(tls_frontend::serve::run(path.to_owned(), state, sockets))
        .map_err(|e| e.0)
}

fn check_config(path: &std::path::Path) -> Result<(), String> {
    let config = Config::read(path).map_err(|e| e.0)?;
    let state = State::check(config).map_err(|e| format!("{}: {e}", path.display()))?;
    // `ocsp = "auto"`: ask each responder once, as the proxy will.
    let (_, _, timeout) = state.config.ocsp.durations().map_err(|e| e.0)?;
    let auto: Vec<_> = state
        .certs
        .entries()
        .iter()
        .filter(|e| {
            matches!(
                e.staple.source,
                tls_frontend::config::ocsp::Source::Auto { .. }
            )
        })
        .collect();
    if !auto.is_empty() {
        let rt = runtime()?;
        for e in auto {
            if let Err(why) = rt.block_on(tls_frontend::ops::ocsp::refresh(e, timeout)) {
                println!(
                    "WARNING: OCSP for {} ({}): {why}",
                    e.path.display(),
                    e.key_alg
                );
            }
        }
    }
    print!("{}", state.describe(std::time::SystemTime::now()));
    println!("configuration OK");
    Ok(())
}

fn demo(listen: &str) -> Result<(), String> {
    let rt = runtime()?;
    rt.block_on(async {
        let up = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| format!("demo upstream: {e}"))?;
        let up_addr = up.local_addr().map_err(|e| e.to_string())?;
        tokio::spawn(tls_frontend::tools::demo::upstream(up));
        // Sized to the open-file limit (raised to the hard limit first), so the demo never
        // warns that its own configuration could run out of descriptors.
        let open_files = rlimit::increase_nofile_limit(u64::MAX).unwrap_or(1024);
        let d = tls_frontend::tools::demo::make(
            listen,
            up_addr,
            tls_frontend::tools::demo::max_connections(open_files),
        )?;
        let state = load(&d.config)?;
        raise_open_file_limit(&state);
        let sockets = tls_frontend::serve::bind_all(&state).map_err(|e| e.0)?;
        let port = listen.rsplit_once(':').map_or("8443", |(_, p)| p);
        let dir = d.dir.display();
        println!("tls-frontend demo: files in {dir}");
        println!("  upstream (demo HTTP responder): {up_addr}; proxy: {listen}");
        println!("Try:");
        println!("  curl --cacert {dir}/ca.pem https://localhost:{port}/");
        println!("  curl --cacert {dir}/ca.pem --tls-max 1.2 https://localhost:{port}/");
        println!(
            "  openssl s_client -connect 127.0.0.1:{port} -servername localhost -CAfile {dir}/ca.pem"
        );
        println!("  (an RFC 8998 client gets the SM2 certificate and TLS_SM4_GCM_SM3; see README)");
        println!("TLCP (GB/T 38636) on the same port:");
        println!(
            "  cargo run --release -p tls-frontend -- tlcp-client 127.0.0.1:{port} --name localhost --ca {dir}/ca.pem"
        );
        println!(
            "  (Tongsuo) openssl s_client -connect 127.0.0.1:{port} -enable_ntls -ntls -cipher ECC-SM2-SM4-GCM-SM3 -CAfile {dir}/ca.pem"
        );
        println!("Ctrl-C stops it (and deletes {dir}: it holds private keys).");
        let result = tls_frontend::serve::run(d.config.clone(), state, sockets)
            .await
            .map_err(|e| e.0);
        drop(d);
        result
    })
}

#[allow(clippy::too_many_arguments)]
fn tlcp_client(
    address: String,
    name: Option<String>,
    ca: Option<std::path::PathBuf>,
    suites: Option<String>,
    credentials: Option<Vec<std::path::PathBuf>>,
    request: Option<String>,
    connections: usize,
    backend: &str,
) -> Result<(), String> {
    let spec = crypto_core::SelectionSpec {
        base: match backend {
            "auto" => crypto_core::Base::Auto,
            b => crypto_core::Base::Backend(b.parse::<Backend>().map_err(|e| e.to_string())?),
        },
        profile: None,
        overrides: Vec::new(),
    };
    let selection = spec.resolve_without_writing().map_err(|e| e.to_string())?;
    let credentials = match credentials {
        None => None,
        Some(v) => {
            let [a, b, c, d]: [std::path::PathBuf; 4] = v
                .try_into()
                .map_err(|_| "--credentials takes four files".to_owned())?;
            Some([a, b, c, d])
        }
    };
    let o = tls_frontend::tools::tlcp_client::Options {
        address,
        name,
        ca,
        suites: suites.map(|s| s.split(',').map(str::to_owned).collect()),
        credentials,
        request,
        connections,
        selection,
    };
    runtime()?.block_on(tls_frontend::tools::tlcp_client::run(&o))
}

fn speed(
    algorithms: Option<&str>,
    backends: Option<&str>,
    sizes: Option<&str>,
    seconds: f64,
    rounds: u32,
    json: bool,
    svg: Option<&std::path::Path>,
) -> Result<(), String> {
    use tls_frontend::tools::speed;
    let plan = speed::Plan::new(algorithms, backends, seconds, rounds, sizes)?;
    let figures = plan.run();
    if json {
        println!("{}", speed::json(&figures));
    } else {
        print!("{}", speed::header(&plan));
        print!("{}", speed::table(&figures));
    }
    if let Some(path) = svg {
        std::fs::write(path, speed::svg(&figures))
            .map_err(|e| format!("writing {}: {e}", path.display()))?;
    }
    Ok(())
}

fn tickets_rotate(file: &std::path::Path, keep: usize) -> Result<(), String> {
    let r = tls_frontend::config::tickets::TicketKeys::rotate(file, keep)?;
    println!(
        "{}: added ticket key {} ({} key{} in the file{}).",
        file.display(),
        r.name,
        r.keys,
        if r.keys == 1 { "" } else { "s" },
        if r.dropped > 0 {
            format!(
                "; dropped the oldest {} (its tickets no longer resume)",
                r.dropped
            )
        } else {
            String::new()
        }
    );
    println!(
        "It encrypts from each instance's next reload (SIGHUP or POST /reload); the older keys \
         in the file still decrypt."
    );
    Ok(())
}

fn calibrate(budget_ms: u64, out: Option<&std::path::Path>) -> Result<(), String> {
    let start = std::time::Instant::now();
    let cal = crypto_core::speed::Calibration::run(std::time::Duration::from_millis(budget_ms));
    eprintln!("calibrated in {:.0?}", start.elapsed());
    let profile = cal.to_profile();
    match out {
        Some(path) => {
            std::fs::write(path, profile).map_err(|e| format!("writing {}: {e}", path.display()))
        }
        None => {
            print!("{profile}");
            Ok(())
        }
    }
}

fn selection(file: &std::path::Path) -> Result<(), String> {
    let text =
        std::fs::read_to_string(file).map_err(|e| format!("reading {}: {e}", file.display()))?;
    let spec: crypto_core::SelectionSpec = text
        .parse()
        .map_err(|e| format!("{}: {e}", file.display()))?;
    let sel = spec
        .resolve()
        .map_err(|e| format!("{}: {e}", file.display()))?;
    print!("{sel}");
    for (alg, backend) in sel.unsupported() {
        if Backend::built().any(|b| b.supports(alg)) {
            eprintln!("note: {alg} is chosen from {backend}, which lacks it: it is unavailable");
        }
    }
    Ok(())
}

fn matrix() -> Result<(), String> {
    println!("CPU features: {}", asm::cpu::Features::get());
    let built: Vec<&str> = Backend::built().map(Backend::name).collect();
    println!("Backends built: {}", built.join(", "));
    println!();
    self_test().map_err(|e| e.to_string())?;
    print!("{}", support_matrix(Backend::ALL));
    println!("\n(n/b: not built into this binary; build with `--features openssl` for OpenSSL.)");
    Ok(())
}

/// A quick known-answer check on this machine: every backend must agree on AES-GCM, SHA-256,
/// X25519, SM3 and SM4 (where it has them) before the matrix is believed.
fn self_test() -> Result<(), Error> {
    // RFC 7748 5.2, first X25519 test vector.
    let scalar = hex("a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4");
    let u = hex("e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c");
    let expected = hex("c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552");
    // NIST SP 800-38D test case 2 (AES-128, zero key and IV, one zero block).
    let gcm_ct = hex("0388dace60b6a392f328c2b971b2fe78ab6e47d42cec13bdf53a67b21257bddf");
    let sha_abc = hex("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    // GB/T 32905-2016 Annex A example 1, and GB/T 32907-2016 Annex A example 1.
    let sm3_abc = hex("66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0");
    let sm4_kp = hex("0123456789abcdeffedcba9876543210");
    let sm4_ct = hex("681edf34d206965e86b3e94f536e4246");
    for b in Backend::built() {
        if b.supports(Algorithm::Hash(crypto_core::HashAlg::Sm3)) {
            let digest = b.hash(crypto_core::HashAlg::Sm3)?.hash(b"abc");
            check(b, "sm3", digest.as_ref() == sm3_abc)?;
        }
        if b.supports(Algorithm::Cipher(crypto_core::CipherAlg::Sm4Ecb)) {
            let mut block = sm4_kp.clone();
            b.cipher(crypto_core::CipherAlg::Sm4Ecb, &sm4_kp)?
                .encrypt(&[], &mut block)?;
            check(b, "sm4", block == sm4_ct)?;
        }
        if b.supports(Algorithm::Aead(crypto_core::AeadAlg::Aes128Gcm)) {
            let key = b.aead(crypto_core::AeadAlg::Aes128Gcm, &[0; 16])?;
            let mut buf = [0u8; 32];
            key.seal_in_place(&Nonce([0; 12]), &[], &mut buf, 16)?;
            check(b, "aes-128-gcm", buf.as_slice() == gcm_ct)?;
        }
        if b.supports(Algorithm::Hash(crypto_core::HashAlg::Sha256)) {
            let digest = b.hash(crypto_core::HashAlg::Sha256)?.hash(b"abc");
            check(b, "sha256", digest.as_ref() == sha_abc)?;
        }
        if b.supports(Algorithm::KxStatic(KxAlg::X25519)) {
            let secret = b.kx(KxAlg::X25519)?.agree_static(&scalar, &u)?;
            check(b, "x25519", secret[..] == expected[..])?;
        }
    }
    Ok(())
}

fn check(b: Backend, what: &'static str, ok: bool) -> Result<(), Error> {
    if ok {
        Ok(())
    } else {
        eprintln!("{b}: {what} known-answer test failed");
        Err(Error::Backend(what))
    }
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .filter_map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok())
        .collect()
}
