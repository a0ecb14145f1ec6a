//! The command-line tool: reads files, directories or standard input, runs the core's
//! `analyze`, prints a rendering and exits 0 (no error finding), 1 (error findings) or 2
//! (unusable input or arguments). All analysis lives in the library.

use std::io::{self, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use ambient_netpol::ambient::mesh::MeshMode;
use ambient_netpol::ambient::{Cni, FixStyle, ProbeSnat};
use ambient_netpol::net::conn::Protocol;
use ambient_netpol::pipeline::connectivity::{connectivity, connectivity_layered};
use ambient_netpol::pipeline::engine::{Endpoint, Engine, HostNetwork};
use ambient_netpol::{Code, Options, Source, analyze, load, report};
use clap::{CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};

/// The YAML tree is many small strings: mimalloc makes `check` on large inputs about a fifth
/// faster than glibc's allocator (BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `--version`: the package version and the commit it was built from (build.rs; `unknown`
/// without git).
const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("AMBIENT_NETPOL_COMMIT"),
    ")"
);

#[derive(Parser)]
#[command(
    name = "ambient-netpol",
    version = VERSION,
    about = "Finds the Kubernetes NetworkPolicies that break Istio ambient mode (HBONE port 15008, \
             kubelet probe SNAT) before you enroll workloads"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check manifests for what Istio ambient mode will break (exit 0: no error finding,
    /// 1: error findings, 2: unusable input or arguments). The corrected YAML is checked only
    /// when an output shows it (--fix, --diff, --write, --extras, --format json).
    Check(CheckArgs),
    /// List every allowed (source, destination) pair between workloads and IP ranges.
    Connectivity {
        #[command(flatten)]
        input: InputArgs,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// `plain`: what NetworkPolicy allows today; `ambient`: what still flows once enrolled
        /// (membership as `check --mode auto`), with today's verdict where it differs.
        #[arg(long, value_enum, default_value_t = ConnectivityMode::Plain)]
        mode: ConnectivityMode,
        /// The CNI that enforces the policies: `calico` also evaluates Calico's own policies.
        #[arg(long, value_enum, default_value_t = CniArg::Generic)]
        cni: CniArg,
        #[command(flatten)]
        mesh: MeshArgs,
    },
    /// Explain the verdict for one source and destination: the policies and rules behind it.
    Explain {
        /// Source: a workload as namespace/name, or an IP address.
        #[arg(long)]
        from: String,
        /// Destination: a workload as namespace/name, or an IP address.
        #[arg(long)]
        to: String,
        /// A port to judge, as 9090/TCP (protocol defaults to TCP).
        #[arg(long)]
        port: Option<String>,
        #[command(flatten)]
        input: InputArgs,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// The CNI that enforces the policies: `calico` also evaluates Calico's own policies.
        #[arg(long, value_enum, default_value_t = CniArg::Generic)]
        cni: CniArg,
        #[command(flatten)]
        mesh: MeshArgs,
    },
    /// Print a shell completion script: `ambient-netpol completions bash >
    /// /etc/bash_completion.d/ambient-netpol` (zsh: a file `_ambient-netpol` on `$fpath`; fish:
    /// `~/.config/fish/completions/ambient-netpol.fish`; PowerShell: add it to `$PROFILE`).
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print a manual page (roff): `ambient-netpol man | man -l -`; `ambient-netpol man check`
    /// for the page of one command (ambient-netpol-check(1)).
    Man {
        /// The command whose page to print (`check`, `connectivity`, `explain`, ...).
        command: Option<String>,
    },
}

/// What to read, and how NetworkPolicy treats hostNetwork pods.
#[derive(clap::Args)]
struct InputArgs {
    /// Files or directories (*.yaml, *.yml, *.json below them); none or `-` reads stdin.
    paths: Vec<PathBuf>,
    /// Whether NetworkPolicies apply to hostNetwork pods: `node` (most CNIs: their traffic is
    /// the node's) or `pod` (CNIs that tell them apart). Kubernetes allows both.
    #[arg(long, value_enum, default_value_t = HostNetworkArg::Node)]
    host_network: HostNetworkArg,
    /// The pods' address range, e.g. 10.244.0.0/16 (repeatable). Under `--cni calico`,
    /// `nets` and `ipBlock` blocks match the pods whose range they overlap; without it, pods are
    /// assumed inside every block.
    #[arg(long = "pod-cidr", value_name = "CIDR", value_parser = parse_cidr)]
    pod_cidr: Vec<ambient_netpol::net::ip::Cidr>,
    /// Report files that cannot be read (missing, not UTF-8, unreadable) on stderr and analyse
    /// the rest; the exit status is still 2.
    #[arg(long)]
    keep_going: bool,
    /// Read the cluster of the current kubectl context (`kubectl get` of every kind the analysis
    /// reads, across namespaces) instead of files; the default of `kubectl ambient-netpol`
    /// without a file.
    #[arg(long, conflicts_with = "paths")]
    cluster: bool,
    /// With --cluster: the kubectl context to read (kubectl's `--context`).
    #[arg(long, value_name = "NAME")]
    context: Option<String>,
    /// With --cluster: the kubeconfig file kubectl reads (kubectl's `--kubeconfig`).
    #[arg(long, value_name = "FILE")]
    kubeconfig: Option<PathBuf>,
}

/// What the mesh does beyond its labels.
#[derive(clap::Args)]
struct MeshArgs {
    /// Whether Istio proxies (sidecars, gateways) tunnel to ambient pods over HBONE
    /// (`ENABLE_HBONE`, on in the `ambient` profile); `off` for meshes that turned it off.
    #[arg(long, value_enum, default_value_t = Switch::On)]
    proxy_hbone: Switch,
    /// A namespace istio-cni never captures (repeatable). Given once or more, it replaces the
    /// default list, kube-system and istio-system; `--exclude-namespace ''` excludes none.
    #[arg(long = "exclude-namespace", value_name = "NS")]
    exclude_namespace: Vec<String>,
    /// Where istiod runs (gateways and waypoints need 15012/TCP to it).
    #[arg(long, value_name = "NS", default_value = "istio-system")]
    istiod_namespace: String,
    /// The mesh's trust domain: AuthorizationPolicy principals are
    /// `<trust domain>/ns/<namespace>/sa/<service account>`.
    #[arg(long, value_name = "DOMAIN", default_value = "cluster.local")]
    trust_domain: String,
    /// Istio's root namespace: its AuthorizationPolicies and PeerAuthentications without a
    /// selector apply to the whole mesh.
    #[arg(long, value_name = "NS", default_value = "istio-system")]
    istio_root_namespace: String,
}

impl MeshArgs {
    /// Sets the mesh fields of `options`.
    fn apply(&self, options: &mut Options) {
        options.proxy_hbone = matches!(self.proxy_hbone, Switch::On);
        if !self.exclude_namespace.is_empty() {
            options.exclude_namespaces = self
                .exclude_namespace
                .iter()
                .filter(|ns| !ns.is_empty())
                .cloned()
                .collect();
        }
        options.istiod_namespace = self.istiod_namespace.clone();
        options.trust_domain = self.trust_domain.clone();
        options.istio_root_namespace = self.istio_root_namespace.clone();
    }
}

#[derive(Clone, Copy, ValueEnum)]
enum Switch {
    On,
    Off,
}

#[derive(clap::Args)]
struct CheckArgs {
    #[command(flatten)]
    input: InputArgs,
    #[command(flatten)]
    mesh: MeshArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = CheckFormat::Text)]
    format: CheckFormat,
    /// The CNI that enforces NetworkPolicy: decides whether SNATed kubelet probes are blocked.
    #[arg(long, value_enum, default_value_t = CniArg::Generic)]
    cni: CniArg,
    /// Who is in the mesh: `auto` (labels, or every namespace when the input has no
    /// istio.io/dataplane-mode label), `all`, or `labels`.
    #[arg(long, value_enum, default_value_t = ModeArg::Auto)]
    mode: ModeArg,
    /// Address kubelet probes are SNATed to (repeatable; default 169.254.7.127; the IPv6 default
    /// is fd16:9254:7127:1337:ffff:ffff:ffff:ffff).
    #[arg(long = "probe-snat-ip", value_name = "IP")]
    probe_snat_ip: Vec<std::net::IpAddr>,
    /// `host-ip`: istio-cni runs with useHostIPForProbeSnat, so probes keep the node's IP.
    #[arg(long, value_enum)]
    probe_snat: Option<ProbeSnatArg>,
    /// Write the corrected YAML (every document of the input) to FILE (`-`: standard output).
    #[arg(long, value_name = "FILE")]
    fix: Option<PathBuf>,
    /// `edit`: change the policies in place; `add`: leave them and add separate policies.
    #[arg(long, value_enum, default_value_t = FixStyleArg::Edit)]
    fix_style: FixStyleArg,
    /// Correct the input files in place (only those that change). Each file is written to a
    /// temporary file beside it and renamed over it, with its mode kept; when any file cannot
    /// be written, or changed on disk since it was read, none is (exit 2).
    #[arg(long)]
    write: bool,
    /// With --write: list the files that would change, write nothing.
    #[arg(long, requires = "write")]
    dry_run: bool,
    /// Print the unified diff of the input against the corrected YAML.
    #[arg(long)]
    diff: bool,
    /// Write the extra documents (e.g. the Cilium clusterwide probe policy) to FILE.
    #[arg(long, value_name = "FILE")]
    extras: Option<PathBuf>,
    /// Print the documentation of a finding code (e.g. AMB001) and exit.
    #[arg(long, value_name = "CODE")]
    explain: Option<String>,
    /// Which findings make the exit status 1 (and fail a JUnit test case): `error` (the
    /// default), `warning` (errors and warnings) or `never` (unusable input still exits 2).
    #[arg(long, value_enum, default_value_t = FailOnArg::Error)]
    fail_on: FailOnArg,
    /// Accept input with no object the analysis reads (empty, or only ignored kinds): exit 0
    /// instead of 2.
    #[arg(long)]
    allow_empty: bool,
}

#[derive(Clone, Copy, ValueEnum)]
enum FailOnArg {
    Error,
    Warning,
    Never,
}

impl From<FailOnArg> for report::FailOn {
    fn from(arg: FailOnArg) -> Self {
        match arg {
            FailOnArg::Error => report::FailOn::Error,
            FailOnArg::Warning => report::FailOn::Warning,
            FailOnArg::Never => report::FailOn::Never,
        }
    }
}

#[derive(Clone, Copy, ValueEnum)]
enum HostNetworkArg {
    Node,
    Pod,
}

impl From<HostNetworkArg> for HostNetwork {
    fn from(arg: HostNetworkArg) -> Self {
        match arg {
            HostNetworkArg::Node => HostNetwork::Node,
            HostNetworkArg::Pod => HostNetwork::Pod,
        }
    }
}

#[derive(Clone, Copy, ValueEnum)]
enum CniArg {
    Generic,
    Cilium,
    Calico,
    OvnKubernetes,
}

#[derive(Clone, Copy, ValueEnum)]
enum ModeArg {
    Auto,
    All,
    Labels,
}

#[derive(Clone, Copy, ValueEnum)]
enum ProbeSnatArg {
    HostIp,
}

#[derive(Clone, Copy, ValueEnum)]
enum FixStyleArg {
    Edit,
    Add,
}

#[derive(Clone, Copy, ValueEnum)]
enum ConnectivityMode {
    Plain,
    Ambient,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Text,
    Json,
}

#[derive(Clone, Copy, ValueEnum)]
enum CheckFormat {
    Text,
    Json,
    Sarif,
    /// GitHub Actions workflow commands: annotations on the pull request.
    Github,
    /// JUnit XML: one test case per policy.
    Junit,
    /// GitLab Code Quality JSON.
    Gitlab,
    /// A Markdown summary (GitHub's job summary, a merge-request comment).
    Markdown,
}

impl CheckArgs {
    fn options(&self) -> Options {
        let probe_snat = match (self.probe_snat, self.probe_snat_ip.is_empty()) {
            (Some(ProbeSnatArg::HostIp), _) => ProbeSnat::HostIp,
            (None, true) => ProbeSnat::default(),
            (None, false) => ProbeSnat::Addresses(self.probe_snat_ip.clone()),
        };
        let mut options = Options {
            cni: self.cni.into(),
            mode: match self.mode {
                ModeArg::Auto => MeshMode::Auto,
                ModeArg::All => MeshMode::All,
                ModeArg::Labels => MeshMode::Labels,
            },
            probe_snat,
            fix_style: match self.fix_style {
                FixStyleArg::Edit => FixStyle::Edit,
                FixStyleArg::Add => FixStyle::Add,
            },
            host_network: self.input.host_network.into(),
            pod_cidrs: self.input.pod_cidr.clone(),
            ..Options::default()
        };
        self.mesh.apply(&mut options);
        options
    }
}

/// What the user named, read into memory; `skipped` counts the files `--keep-going` passed over.
struct Inputs {
    items: Vec<Input>,
    skipped: usize,
}

impl Inputs {
    /// The exit status once the output is written: 2 when a file was skipped.
    fn status(&self, status: u8) -> ExitCode {
        ExitCode::from(if self.skipped > 0 { 2 } else { status })
    }

    /// With `--keep-going` a file that cannot be read is reported, counted and passed over;
    /// without it, it ends the run.
    fn tolerate(&mut self, keep_going: bool, result: Result<(), String>) -> Result<(), String> {
        match result {
            Err(message) if keep_going => {
                eprintln!("ambient-netpol: {message} (skipped)");
                self.skipped += 1;
                Ok(())
            }
            other => other,
        }
    }
}

/// An input the user named, read into memory.
struct Input {
    name: String,
    text: String,
    /// The file it came from (`None` for standard input).
    path: Option<PathBuf>,
}

/// The name kubectl finds a plugin by: `kubectl ambient-netpol` runs `kubectl-ambient_netpol`
/// (a `-` in a plugin's command is a `_` in its file name).
const KUBECTL_PLUGIN: &str = "kubectl-ambient_netpol";

/// Whether the program was started as the kubectl plugin (its file, or a link, named so).
fn started_as_plugin() -> bool {
    std::env::args_os()
        .next()
        .as_deref()
        .map(Path::new)
        .and_then(Path::file_stem)
        .is_some_and(|name| name == KUBECTL_PLUGIN)
}

impl Command {
    /// What the command reads, for the commands that read manifests.
    fn input_mut(&mut self) -> Option<&mut InputArgs> {
        match self {
            Command::Check(args) => Some(&mut args.input),
            Command::Connectivity { input, .. } | Command::Explain { input, .. } => Some(input),
            Command::Completions { .. } | Command::Man { .. } => None,
        }
    }
}

fn main() -> ExitCode {
    let plugin = started_as_plugin();
    let parsed = if plugin {
        // As a kubectl plugin, usage and help say `kubectl ambient-netpol`.
        Cli::command()
            .bin_name("kubectl ambient-netpol")
            .try_get_matches()
            .and_then(|matches| Cli::from_arg_matches(&matches))
    } else {
        Cli::try_parse()
    };
    let mut cli = match parsed {
        Ok(cli) => cli,
        Err(err) => {
            let _ = err.print();
            // clap exits 0 for --help / --version and 2 for usage errors, as the contract wants.
            return ExitCode::from(err.exit_code() as u8);
        }
    };
    // `kubectl ambient-netpol check` with no file checks the current context.
    if plugin
        && let Some(input) = cli.command.input_mut()
        && input.paths.is_empty()
    {
        input.cluster = true;
    }
    let result = match cli.command {
        Command::Check(args) => check(&args),
        Command::Connectivity {
            input,
            format,
            mode,
            cni,
            mesh,
        } => connectivity_map(&input, format, mode, &analysis_options(&input, cni, &mesh)),
        Command::Explain {
            from,
            to,
            port,
            input,
            format,
            cni,
            mesh,
        } => explain(
            &input,
            format,
            &from,
            &to,
            port.as_deref(),
            &analysis_options(&input, cni, &mesh),
        ),
        Command::Completions { shell } => {
            let mut out = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "ambient-netpol", &mut out);
            let mut script = String::from_utf8_lossy(&out).into_owned();
            if shell == clap_complete::Shell::Bash {
                // clap_complete 4.6 spells the `-` of the name two ways in its bash script: the
                // command it records (`ambient__netpol__subcmd__check`) and the case labels
                // it compares them with (`ambient__subcmd__netpol__subcmd__check`), so no
                // subcommand's flags complete. One spelling (tests/shell.rs completes them).
                script = script.replace("ambient__subcmd__netpol", "ambient__netpol");
            }
            print_quietly(&script);
            Ok(ExitCode::SUCCESS)
        }
        Command::Man { command } => manual(command.as_deref()),
    };
    result.unwrap_or_else(|message| {
        eprintln!("ambient-netpol: {message}");
        ExitCode::from(2)
    })
}

/// The manual page of the tool, or of one of its commands (named `ambient-netpol-check` and so
/// on, as git's are).
fn manual(command: Option<&str>) -> Result<ExitCode, String> {
    let mut cli = Cli::command();
    cli.build();
    let page = match command {
        None => cli,
        Some(name) => {
            let names: Vec<String> = cli
                .get_subcommands()
                .map(|c| c.get_name().to_string())
                .collect();
            let sub = cli.find_subcommand(name).cloned().ok_or_else(|| {
                format!(
                    "man {name}: no such command; commands: {}",
                    names.join(", ")
                )
            })?;
            // clap names are `&'static str`; this runs once, just before exiting.
            let full: &'static str = format!("ambient-netpol-{}", sub.get_name()).leak();
            sub.name(full).bin_name(full)
        }
    };
    let mut out = Vec::new();
    clap_mangen::Man::new(page)
        .render(&mut out)
        .map_err(|e| format!("man: {e}"))?;
    print_quietly(&String::from_utf8_lossy(&out));
    Ok(ExitCode::SUCCESS)
}

fn sources(inputs: &[Input]) -> Vec<Source<'_>> {
    inputs
        .iter()
        .map(|i| Source {
            name: &i.name,
            text: &i.text,
        })
        .collect()
}

fn check(args: &CheckArgs) -> Result<ExitCode, String> {
    if let Some(code) = &args.explain {
        let code = Code::from_id(code).ok_or_else(|| {
            let known: Vec<&str> = ambient_netpol::findings::RULES
                .iter()
                .map(|r| r.id)
                .collect();
            format!(
                "--explain {code}: no such code; known codes: {}",
                known.join(", ")
            )
        })?;
        let rule = code.rule();
        print_quietly(&format!(
            "{} ({}): {}\n\n{}",
            rule.id,
            rule.severity.as_str(),
            rule.title,
            rule.explanation()
        ));
        return Ok(ExitCode::SUCCESS);
    }
    let all = read_inputs(&args.input)?;
    let inputs = &all.items;
    if args.write && args.input.cluster {
        return Err("--write corrects files in place; a cluster read with kubectl has no file to write (use --fix FILE, then kubectl apply -f FILE)".into());
    }
    if args.write && inputs.iter().any(|i| i.path.is_none()) {
        return Err(
            "--write corrects files in place; standard input has no file to write (use --fix FILE)"
                .into(),
        );
    }
    let names: Vec<&str> = inputs.iter().map(|i| i.name.as_str()).collect();
    let texts: Vec<&str> = inputs.iter().map(|i| i.text.as_str()).collect();
    // The fix is made (and checked) only for an output that carries it.
    let fix_shown = args.fix.is_some()
        || args.extras.is_some()
        || args.write
        || args.diff
        || matches!(args.format, CheckFormat::Json);
    let result = if fix_shown {
        analyze(&sources(inputs), &args.options())
    } else {
        ambient_netpol::findings(&sources(inputs), &args.options())
    };
    // Only JSON and `--diff` show it: a large input's diff costs as much as a rule.
    let diff = || ambient_netpol::diff::unified(&names, &texts, &result.fixed.texts);

    if let Some(file) = &args.fix {
        write_output(file, &result.fixed.combined())?;
    }
    if let Some(file) = &args.extras {
        write_output(file, &result.fixed.extras_combined())?;
    }
    let mut out = match args.format {
        CheckFormat::Text => report::text(&result, &names),
        CheckFormat::Json => report::json(&result, &names, &diff()),
        CheckFormat::Sarif => report::sarif(&result, &names),
        CheckFormat::Github => report::github(&result, &names),
        CheckFormat::Junit => {
            // Every policy is a test case, those without findings too: the report lists only
            // findings, so the policies come from reading the input again.
            let policies = report::policy_entries(&load(&sources(inputs)).cluster);
            report::junit(&result, &names, &policies, args.fail_on.into())
        }
        CheckFormat::Gitlab => report::gitlab(&result, &names),
        CheckFormat::Markdown => report::markdown(&result, &names),
    };
    if args.diff && matches!(args.format, CheckFormat::Text) {
        out.push_str(&diff());
    }
    // The report comes first, so a --write that refuses still shows what was found.
    print_quietly(&out);
    if args.write {
        correct_files(inputs, &result, args.dry_run)?;
    }
    let fail_on = report::FailOn::from(args.fail_on);
    if result.objects == 0 && !result.has_errors() && !args.allow_empty {
        return Err(nothing_analysed(&result, inputs));
    }
    let status = all.status(u8::from(fail_on.failed(&result)));
    // The process ends here: freeing a large cluster's report, tree by tree, would only cost
    // time (12 M instructions on L + 100).
    std::mem::forget(result);
    Ok(status)
}

/// Why a run that read no object fails: a CI step whose file pattern matched nothing, or a
/// pipe that produced nothing, must not pass as "0 errors".
fn nothing_analysed(result: &ambient_netpol::Report, inputs: &[Input]) -> String {
    let from = match inputs {
        [one] => one.name.clone(),
        many => format!("{} inputs", many.len()),
    };
    let ignored = result
        .findings
        .iter()
        .filter(|f| f.code == ambient_netpol::Code::Inp002)
        .count();
    let what = if result.documents == 0 {
        format!("{from} is empty (no YAML or JSON document)")
    } else if ignored > 0 {
        format!(
            "{from} has no object the analysis reads (only {ignored} of kinds it ignores, INP002)"
        )
    } else {
        format!("{from} has no Kubernetes object")
    };
    format!(
        "nothing to check: {what}; give the manifests (files, directories, or `-` for standard \
         input), or pass --allow-empty to accept input with nothing to analyse"
    )
}

/// `--write`: every file that changes is replaced whole, or none is.
///
/// All corrected texts are known before anything is written. Each goes to a temporary file
/// beside its original (same directory, so the rename cannot cross file systems), is synced
/// and given the original's mode; only when every temporary file is in place, and every
/// original still holds the bytes that were analysed, are they renamed over the originals.
/// Any failure before that removes the temporary files and leaves every original untouched.
fn correct_files(
    inputs: &[Input],
    result: &ambient_netpol::Report,
    dry_run: bool,
) -> Result<(), String> {
    // INT001: the core's check of its own fixed text failed; that text must not reach a file.
    if let Some(internal) = result.findings.iter().find(|f| f.code.id() == "INT001") {
        return Err(format!(
            "--write: no file written: the corrected text failed the tool's own check \
             (INT001: {}); please report this with the input",
            internal.message
        ));
    }
    let changes = changes(inputs, &result.fixed.texts)?;
    if dry_run {
        if changes.is_empty() {
            eprintln!("ambient-netpol: --dry-run: no file would change");
        }
        for change in &changes {
            eprintln!("ambient-netpol: would correct {}", change.describe());
        }
        return Ok(());
    }
    write_all(&changes)?;
    for change in &changes {
        eprintln!("ambient-netpol: corrected {}", change.describe());
    }
    Ok(())
}

/// A file `--write` replaces.
struct Change<'a> {
    /// The file itself, symlinks resolved: the temporary file goes beside it and the rename
    /// replaces it, never a link that points to it.
    target: PathBuf,
    /// The path as the user named it, for messages.
    shown: &'a str,
    /// The text that was read and analysed.
    read: &'a str,
    fixed: &'a str,
}

impl Change<'_> {
    /// `path (N lines added)`, or `(N lines changed)` for fixes inside a line (a flow
    /// sequence), or both. A fix only inserts, so a changed line is a longer line.
    fn describe(&self) -> String {
        let old: Vec<&str> = self.read.split_inclusive('\n').collect();
        let new: Vec<&str> = self.fixed.split_inclusive('\n').collect();
        let (mut removed, mut inserted) = (0, 0);
        for op in similar::capture_diff_slices(similar::Algorithm::Myers, &old, &new) {
            if matches!(op, similar::DiffOp::Equal { .. }) {
                continue;
            }
            removed += op.old_range().len();
            inserted += op.new_range().len();
        }
        let lines = |n: usize| if n == 1 { "line" } else { "lines" };
        let added = inserted.saturating_sub(removed);
        let mut what = Vec::new();
        if added > 0 {
            what.push(format!("{added} {} added", lines(added)));
        }
        if removed > 0 {
            what.push(format!("{removed} {} changed", lines(removed)));
        }
        format!("{} ({})", self.shown, what.join(", "))
    }

    /// The temporary file beside the target: `.<name>.ambient-netpol.tmp`.
    fn temporary(&self) -> PathBuf {
        let mut name = std::ffi::OsString::from(".");
        name.push(self.target.file_name().unwrap_or_default());
        name.push(".ambient-netpol.tmp");
        self.target.with_file_name(name)
    }
}

/// The files whose corrected text differs from what was read, each once.
fn changes<'a>(inputs: &'a [Input], fixed: &'a [String]) -> Result<Vec<Change<'a>>, String> {
    let mut changes: Vec<Change<'a>> = Vec::new();
    for (input, fixed) in inputs.iter().zip(fixed) {
        let Some(path) = &input.path else { continue };
        if *fixed == input.text {
            continue;
        }
        let target = std::fs::canonicalize(path)
            .map_err(|e| format!("{}: cannot write: {e}; no file written", input.name))?;
        match changes.iter().find(|c| c.target == target) {
            // The same file named twice (a directory and a file in it, or a link): one write.
            Some(earlier) if earlier.read == input.text && earlier.fixed == *fixed => {}
            Some(earlier) => {
                return Err(format!(
                    "{}: the same file as {}, and corrected differently; name each file once \
                     with --write; no file written",
                    input.name, earlier.shown
                ));
            }
            None => changes.push(Change {
                target,
                shown: &input.name,
                read: &input.text,
                fixed,
            }),
        }
    }
    Ok(changes)
}

/// Writes every change or none (see [`correct_files`]).
fn write_all(changes: &[Change]) -> Result<(), String> {
    let mut staged: Vec<PathBuf> = Vec::with_capacity(changes.len());
    let discard = |staged: &[PathBuf]| {
        for temp in staged {
            let _ = std::fs::remove_file(temp);
        }
    };
    for change in changes {
        match stage(change, change.fixed) {
            Ok(temp) => staged.push(temp),
            Err(message) => {
                discard(&staged);
                return Err(format!("{message}; no file written"));
            }
        }
    }
    // Just before renaming: a file edited since it was read keeps the edit (its fix was
    // computed for other text).
    for change in changes {
        let now = std::fs::read(&change.target);
        if now.as_deref().ok() != Some(change.read.as_bytes()) {
            discard(&staged);
            let why = match now {
                Err(e) => format!("cannot be read again: {e}"),
                Ok(_) => "changed on disk since it was read".to_string(),
            };
            return Err(format!(
                "{}: {why}; no file written (run the check again)",
                change.shown
            ));
        }
    }
    for (i, (change, temp)) in changes.iter().zip(&staged).enumerate() {
        if let Err(e) = std::fs::rename(temp, &change.target) {
            // Same directory, file just created: this should not happen. Put back the files
            // already replaced, from the text that was read.
            discard(&staged[i..]);
            let mut message = format!(
                "{}: cannot replace it with {}: {e}",
                change.shown,
                temp.display()
            );
            let lost: Vec<&str> = changes[..i]
                .iter()
                .filter(|done| restore(done).is_err())
                .map(|done| done.shown)
                .collect();
            if lost.is_empty() {
                message.push_str("; no file written (the files already replaced were restored)");
            } else {
                message.push_str(&format!(
                    "; these files were corrected and could not be restored: {}",
                    lost.join(", ")
                ));
            }
            return Err(message);
        }
    }
    sync_directories(changes);
    Ok(())
}

/// Writes `text` to the change's temporary file: created anew (never through a link or over a
/// file that is there), synced, with the original's mode (and, where allowed, its owner).
/// Returns its path; on failure nothing of it is left.
fn stage(change: &Change, text: &str) -> Result<PathBuf, String> {
    let shown = change.shown;
    let original =
        std::fs::metadata(&change.target).map_err(|e| format!("{shown}: cannot write: {e}"))?;
    // A rename replaces even a read-only file; the file's own permission decides, as for any
    // editor. (Opening for writing without truncating changes nothing.)
    std::fs::OpenOptions::new()
        .write(true)
        .open(&change.target)
        .map_err(|e| format!("{shown}: cannot write: {e}"))?;
    let temp = change.temporary();
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&temp)
        .map_err(|e| {
            let left = if e.kind() == io::ErrorKind::AlreadyExists {
                " (left by an interrupted run? remove it)"
            } else {
                ""
            };
            format!(
                "{shown}: cannot create the temporary file {}: {e}{left}",
                temp.display()
            )
        })?;
    let written = file
        .write_all(text.as_bytes())
        .and_then(|()| {
            keep_owner(&file, &original);
            file.set_permissions(original.permissions())
        })
        .and_then(|()| file.sync_all());
    drop(file);
    written.map(|()| temp.clone()).map_err(|e| {
        let _ = std::fs::remove_file(&temp);
        format!("{shown}: cannot write {}: {e}", temp.display())
    })
}

/// Gives the temporary file the original's owner and group when they differ (running as root
/// on another user's checkout); where that is not permitted the file is the writer's, as with
/// any editor that saves by renaming.
#[cfg(unix)]
fn keep_owner(file: &std::fs::File, original: &std::fs::Metadata) {
    use std::os::unix::fs::MetadataExt;
    if let Ok(now) = file.metadata()
        && (now.uid(), now.gid()) != (original.uid(), original.gid())
    {
        let _ = std::os::unix::fs::fchown(file, Some(original.uid()), Some(original.gid()));
    }
}

#[cfg(not(unix))]
fn keep_owner(_: &std::fs::File, _: &std::fs::Metadata) {}

/// Puts back the text that was read, the same way it was replaced.
fn restore(change: &Change) -> Result<(), String> {
    let temp = stage(change, change.read)?;
    std::fs::rename(&temp, &change.target).map_err(|e| {
        let _ = std::fs::remove_file(&temp);
        e.to_string()
    })
}

/// Makes the renames durable: a rename lives in its directory.
fn sync_directories(changes: &[Change]) {
    #[cfg(unix)]
    {
        let mut dirs: Vec<&Path> = changes.iter().filter_map(|c| c.target.parent()).collect();
        dirs.sort();
        dirs.dedup();
        for dir in dirs {
            let _ = std::fs::File::open(dir).and_then(|d| d.sync_all());
        }
    }
    #[cfg(not(unix))]
    let _ = changes;
}

/// Writes a file, or standard output for `-`.
fn write_output(path: &Path, text: &str) -> Result<(), String> {
    if path.as_os_str() == "-" {
        print_quietly(text);
        Ok(())
    } else {
        std::fs::write(path, text).map_err(|e| format!("{}: cannot write: {e}", path.display()))
    }
}

/// Input errors do not stop `connectivity` and `explain` (the broken objects are left out), but
/// they are said on stderr so nobody mistakes a partial map for the whole.
fn load_reporting(inputs: &[Input]) -> ambient_netpol::Loaded {
    let loaded = load(&sources(inputs));
    let names: Vec<&str> = inputs.iter().map(|i| i.name.as_str()).collect();
    for finding in loaded
        .findings
        .iter()
        .filter(|f| f.severity == ambient_netpol::Severity::Error)
    {
        let place = finding.location.map_or_else(String::new, |l| {
            format!(
                "{}:{}: ",
                names.get(l.source).copied().unwrap_or("<input>"),
                l.line
            )
        });
        // (Objects pasted without `---` are read apart: nothing is left out.)
        let outcome = if finding.code == ambient_netpol::Code::Inp006 {
            "read as separate objects"
        } else {
            "left out"
        };
        eprintln!(
            "{place}{} {}: {} ({outcome})",
            finding.code.id(),
            finding.severity.as_str(),
            finding.message
        );
    }
    loaded
}

impl From<CniArg> for Cni {
    fn from(cni: CniArg) -> Cni {
        match cni {
            CniArg::Generic => Cni::Generic,
            CniArg::Cilium => Cni::Cilium,
            CniArg::Calico => Cni::Calico,
            CniArg::OvnKubernetes => Cni::OvnKubernetes,
        }
    }
}

/// `--pod-cidr`'s values.
fn parse_cidr(text: &str) -> Result<ambient_netpol::net::ip::Cidr, String> {
    ambient_netpol::net::ip::Cidr::parse(text)
}

/// The options of `connectivity` and `explain`: the CNI, the pods' ranges, the mesh.
fn analysis_options(input: &InputArgs, cni: CniArg, mesh: &MeshArgs) -> Options {
    let mut options = Options {
        cni: cni.into(),
        host_network: input.host_network.into(),
        pod_cidrs: input.pod_cidr.clone(),
        ..Options::default()
    };
    mesh.apply(&mut options);
    options
}

fn connectivity_map(
    input: &InputArgs,
    format: Format,
    mode: ConnectivityMode,
    options: &Options,
) -> Result<ExitCode, String> {
    let inputs = read_inputs(input)?;
    let mut loaded = load_reporting(&inputs.items);
    let connections = match mode {
        ConnectivityMode::Plain => connectivity(&options.engine(&loaded.cluster)),
        ConnectivityMode::Ambient => {
            // Waypoint pods the input lacks still carry traffic: infer them as `check` does.
            loaded
                .cluster
                .add_inferred_for(options.cni == ambient_netpol::ambient::Cni::Calico);
            let engine = options.engine(&loaded.cluster);
            let cx = ambient_netpol::ambient::Context::new(&engine, options);
            // After the CNI's verdict, the destination's ztunnel's.
            let layer = ambient_netpol::ambient::ztunnel_layer::Layer::new(&cx);
            connectivity_layered(
                &engine,
                |s, d| {
                    let allowed = cx.ambient_conns(s, d);
                    let refused = layer.refused(Some(s), d, &allowed);
                    (allowed, refused)
                },
                |allowed, d| layer.refused(None, d, allowed),
            )
        }
    };
    let out = match format {
        Format::Text => report::connectivity_text(&connections),
        Format::Json => {
            let mut out = serde_json::to_string_pretty(&connections)
                .expect("connections serialize infallibly");
            out.push('\n');
            out
        }
    };
    print_quietly(&out);
    Ok(inputs.status(0))
}

fn explain(
    input: &InputArgs,
    format: Format,
    from: &str,
    to: &str,
    port: Option<&str>,
    options: &Options,
) -> Result<ExitCode, String> {
    let port = port.map(parse_port).transpose()?;
    let inputs = read_inputs(input)?;
    let mut loaded = load_reporting(&inputs.items);
    // Waypoint pods the input lacks still carry traffic once enrolled: infer them as `check`
    // does (after the input's workloads, which keep their indexes).
    let given = loaded.cluster.workloads.len();
    loaded
        .cluster
        .add_inferred_for(options.cni == ambient_netpol::ambient::Cni::Calico);
    let engine = options.engine(&loaded.cluster);
    let src = endpoint(&engine, given, from, "--from")?;
    let dst = endpoint(&engine, given, to, "--to")?;
    if matches!((src, dst), (Endpoint::Ip(_), Endpoint::Ip(_))) {
        return Err("--from and --to are both IP addresses; NetworkPolicy only governs traffic of pods, so name a workload on at least one side".into());
    }
    let verdict = engine.verdict(src, dst);
    let cx = ambient_netpol::ambient::Context::new(&engine, options);
    let hops: Option<Vec<_>> = match (src, dst) {
        (Endpoint::Workload(s), Endpoint::Workload(d)) => Some(
            ambient_netpol::ambient::paths::tunnel(&cx, s, d)
                .into_iter()
                .map(|(edge, _)| edge)
                .collect(),
        ),
        _ => None,
    };
    // The ztunnel layer, after the CNI's: what the destination's ztunnel does with the inner
    // port once enrolled (tunnelled traffic reaches it on every TCP port when the CNI admits
    // the tunnel; plaintext on the ports allowed today).
    let layer = ambient_netpol::ambient::ztunnel_layer::Layer::new(&cx);
    let ztunnel = match dst {
        Endpoint::Workload(d) => {
            let s = match src {
                Endpoint::Workload(s) => Some(s),
                Endpoint::Ip(_) => None,
            };
            let tunnelled = hops.as_ref().is_some_and(|h| !h.is_empty());
            let asked = if tunnelled {
                ambient_netpol::istio::ztunnel::all_ports()
            } else {
                verdict.allowed.of(Protocol::Tcp).clone()
            };
            let reached = !tunnelled || hops.iter().flatten().all(|h| h.allowed);
            layer.judge(s, d, &asked).map(|j| (j, reached))
        }
        Endpoint::Ip(_) => None,
    };
    let out = match format {
        Format::Text => {
            let mut out = report::explain_text(&engine, from, to, &verdict, port, hops.as_deref());
            if let Some((j, reached)) = &ztunnel {
                out.push_str(&report::ztunnel_text(&layer, &cx, j, port, *reached));
            }
            out
        }
        Format::Json => {
            let mut value =
                report::explain_value(&engine, from, to, &verdict, port, hops.as_deref());
            value["ztunnel"] = ztunnel
                .as_ref()
                .map_or(serde_json::Value::Null, |(j, reached)| {
                    report::ztunnel_json(&cx, j, port, *reached)
                });
            report::json_text(&value)
        }
    };
    print_quietly(&out);
    Ok(inputs.status(0))
}

fn parse_port(text: &str) -> Result<(Protocol, u16), String> {
    let (number, protocol) = text.split_once('/').unwrap_or((text, "TCP"));
    let protocol = Protocol::parse(&protocol.to_ascii_uppercase())
        .ok_or_else(|| format!("--port {text}: the protocol must be TCP, UDP or SCTP"))?;
    let number = number
        .parse::<u16>()
        .ok()
        .filter(|n| *n >= 1)
        .ok_or_else(|| format!("--port {text}: the port must be a number from 1 to 65535"))?;
    Ok((protocol, number))
}

/// The endpoint `text` names: an address, or one of the first `given` workloads (those of the
/// input, not the inferred ones).
fn endpoint(engine: &Engine, given: usize, text: &str, flag: &str) -> Result<Endpoint, String> {
    if let Ok(ip) = text.parse() {
        return Ok(Endpoint::Ip(ip));
    }
    if let Some(i) = engine.cluster.workload(text).filter(|&i| i < given) {
        return Ok(Endpoint::Workload(i));
    }
    let workloads = &engine.cluster.workloads[..given];
    let mut known: Vec<String> = workloads.iter().map(|w| w.qualified_name()).collect();
    known.sort();
    known.dedup();
    // Those of the namespace asked for first, and a dozen at most (a cluster has thousands).
    let namespace = text.split_once('/').map(|(ns, _)| format!("{ns}/"));
    known.sort_by_key(|w| {
        namespace
            .as_ref()
            .is_none_or(|ns| !w.starts_with(ns.as_str()))
    });
    const SHOWN: usize = 12;
    let hint = match known.len() {
        0 => "the input has no workloads".to_string(),
        n if n <= SHOWN => format!("workloads in the input: {}", known.join(", ")),
        n => format!(
            "workloads in the input: {} and {} more",
            known[..SHOWN].join(", "),
            n - SHOWN
        ),
    };
    Err(format!(
        "{flag} {text}: no such workload (write namespace/name or an IP address); {hint}"
    ))
}

/// Writes to stdout; a closed pipe (`| head`) is not an error worth a message.
fn print_quietly(text: &str) {
    let mut stdout = io::stdout().lock();
    if let Err(err) = stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
        && err.kind() != io::ErrorKind::BrokenPipe
    {
        eprintln!("ambient-netpol: cannot write output: {err}");
    }
}

fn read_inputs(args: &InputArgs) -> Result<Inputs, String> {
    let mut inputs = Inputs {
        items: Vec::new(),
        skipped: 0,
    };
    if args.cluster {
        inputs.items.push(read_cluster(args)?);
        return Ok(inputs);
    }
    if args.context.is_some() || args.kubeconfig.is_some() {
        return Err("--context and --kubeconfig choose the cluster --cluster reads; give --cluster (or run as `kubectl ambient-netpol`)".into());
    }
    if args.paths.is_empty() {
        inputs.items.push(read_stdin()?);
    }
    for path in &args.paths {
        if path.as_os_str() == "-" {
            inputs.items.push(read_stdin()?);
            continue;
        }
        let mut files = Vec::new();
        let listed = if path.is_dir() {
            list_manifests(path, &mut files)
        } else {
            files.push(path.clone());
            Ok(())
        };
        inputs.tolerate(args.keep_going, listed)?;
        for file in files {
            let read = read_file(&file).map(|input| inputs.items.push(input));
            inputs.tolerate(args.keep_going, read)?;
        }
    }
    Ok(inputs)
}

/// The kinds the analysis reads that every cluster serves, as `kubectl get` names them.
const CLUSTER_KINDS: &[&str] = &[
    "namespaces",
    "pods",
    "replicationcontrollers",
    "services",
    "deployments.apps",
    "replicasets.apps",
    "statefulsets.apps",
    "daemonsets.apps",
    "jobs.batch",
    "cronjobs.batch",
    "horizontalpodautoscalers.autoscaling",
    "networkpolicies.networking.k8s.io",
];

/// The kinds the analysis reads that come with a CRD: asked for only when the cluster has it.
const CLUSTER_CRD_KINDS: &[&str] = &[
    "clusternetworkpolicies.policy.networking.k8s.io",
    "adminnetworkpolicies.policy.networking.k8s.io",
    "baselineadminnetworkpolicies.policy.networking.k8s.io",
    "gateways.gateway.networking.k8s.io",
    "authorizationpolicies.security.istio.io",
    "peerauthentications.security.istio.io",
];

/// `--cluster`: the objects of the current kubectl context, as one `kubectl get ... -o yaml`
/// (a `List`) of every kind the analysis reads, across namespaces. `kubectl` is the one on
/// PATH, or `$KUBECTL`.
fn read_cluster(args: &InputArgs) -> Result<Input, String> {
    let kubectl = std::env::var_os("KUBECTL").unwrap_or_else(|| "kubectl".into());
    let mut global: Vec<std::ffi::OsString> = Vec::new();
    if let Some(context) = &args.context {
        global.push("--context".into());
        global.push(context.into());
    }
    if let Some(kubeconfig) = &args.kubeconfig {
        global.push("--kubeconfig".into());
        global.push(kubeconfig.into());
    }
    let run = |what: &[&str]| -> Result<Vec<u8>, String> {
        let shown = format!("kubectl {}", what.join(" "));
        let out = std::process::Command::new(&kubectl)
            .args(&global)
            .args(what)
            .stdin(std::process::Stdio::null())
            .output()
            .map_err(|e| format!("--cluster: cannot run kubectl ({shown}): {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "--cluster: `{shown}` failed ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        Ok(out.stdout)
    };
    let served = String::from_utf8_lossy(&run(&["api-resources", "--verbs=list", "-o", "name"])?)
        .into_owned();
    let mut kinds: Vec<&str> = CLUSTER_KINDS.to_vec();
    kinds.extend(
        CLUSTER_CRD_KINDS
            .iter()
            .filter(|kind| served.lines().any(|line| line.trim() == **kind)),
    );
    // Nodes matter only to the `nodes` peers of cluster-wide policies, and listing them takes a
    // cluster-wide permission many users lack: asked for only where those policies exist.
    if kinds
        .iter()
        .any(|kind| kind.ends_with(".policy.networking.k8s.io"))
    {
        kinds.push("nodes");
    }
    let list = kinds.join(",");
    let bytes = run(&["get", &list, "--all-namespaces", "-o", "yaml"])?;
    let name = match &args.context {
        Some(context) => format!("<kubectl get, context {context}>"),
        None => "<kubectl get>".to_string(),
    };
    let text = utf8(bytes, &name)?;
    Ok(Input {
        name,
        text,
        path: None,
    })
}

/// The manifests below a directory, sorted; none is an error (the user named the wrong place).
fn list_manifests(dir: &Path, files: &mut Vec<PathBuf>) -> Result<(), String> {
    collect_manifests(dir, files)?;
    if files.is_empty() {
        return Err(format!(
            "{}: no *.yaml, *.yml or *.json file in this directory",
            dir.display()
        ));
    }
    files.sort();
    Ok(())
}

fn collect_manifests(dir: &Path, files: &mut Vec<PathBuf>) -> Result<(), String> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: cannot read directory: {e}", dir.display()))?;
    for entry in entries {
        let entry = entry.map_err(|e| format!("{}: cannot read directory: {e}", dir.display()))?;
        let path = entry.path();
        let file_type = entry
            .file_type()
            .map_err(|e| format!("{}: {e}", path.display()))?;
        if file_type.is_dir() {
            collect_manifests(&path, files)?;
        } else if matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("yaml" | "yml" | "json")
        ) {
            files.push(path);
        }
    }
    Ok(())
}

fn read_file(path: &Path) -> Result<Input, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
    let name = path.display().to_string();
    let text = utf8(bytes, &name)?;
    Ok(Input {
        name,
        text,
        path: Some(path.to_path_buf()),
    })
}

fn read_stdin() -> Result<Input, String> {
    // Typed in a terminal without a file, the command would wait without a word: say what it
    // waits for.
    if io::stdin().is_terminal() {
        eprintln!(
            "ambient-netpol: reading manifests from standard input (end with {}); to check \
             files, name them: ambient-netpol check FILE|DIR ... (--help for more)",
            if cfg!(windows) {
                "Ctrl-Z, Enter"
            } else {
                "Ctrl-D"
            }
        );
    }
    let mut bytes = Vec::new();
    io::stdin()
        .read_to_end(&mut bytes)
        .map_err(|e| format!("standard input: cannot read: {e}"))?;
    let name = "<stdin>".to_string();
    let text = utf8(bytes, &name)?;
    Ok(Input {
        name,
        text,
        path: None,
    })
}

fn utf8(bytes: Vec<u8>, name: &str) -> Result<String, String> {
    String::from_utf8(bytes).map_err(|e| {
        let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let line = valid.iter().filter(|&&b| b == b'\n').count() + 1;
        format!("{name}:{line}: not UTF-8 text (Kubernetes manifests must be UTF-8)")
    })
}
