//! OCI seccomp profiles (the JSON that Docker, containerd and Kubernetes' `Localhost` profiles
//! use) compiled to BPF and installed on the calling process, so that a test can run mite-engine
//! under the same filter a container runtime would install, without a container.
//!
//! What is honoured: `defaultAction` / `defaultErrnoRet`, each rule's `names`, `action`,
//! `errnoRet`, `args` (all comparison operators; several conditions on one argument index are
//! alternatives, as runc does), and `includes` / `excludes` by architecture and capability
//! (the capabilities are the ones the container keeps: none for a pod that drops `ALL`).
//! `minKernel` is ignored. Names this architecture does not have are skipped, as libseccomp
//! does. Actions: allow, errno, kill (thread or process), trap, log. Only the native ABI is
//! filtered: a system call made through another (i386, x32) kills the process, where a runtime
//! would apply the profile's `archMap`.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

use seccompiler::{
    BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter, SeccompRule, TargetArch,
};
use serde_json::Value;

/// Why a profile could not be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProfileError {
    /// The file is not JSON.
    Json(String),
    /// A field is missing or has the wrong type.
    Field { at: String, expected: &'static str },
    /// An action this helper does not install (`SCMP_ACT_NOTIFY`, `SCMP_ACT_TRACE`).
    Action { at: String, action: String },
    /// A comparison operator that is not one of libseccomp's.
    Operator { at: String, op: String },
    /// This machine's architecture is not one seccompiler supports.
    Arch(String),
    /// The profile allows every syscall: nothing to install.
    AllowsEverything,
    /// seccompiler refused the filter.
    Compile(String),
}

impl fmt::Display for ProfileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProfileError::Json(e) => write!(f, "not a seccomp profile (JSON): {e}"),
            ProfileError::Field { at, expected } => write!(f, "{at}: expected {expected}"),
            ProfileError::Action { at, action } => {
                write!(f, "{at}: action {action} is not supported here (allow, errno, kill, trap, log)")
            }
            ProfileError::Operator { at, op } => write!(f, "{at}: unknown comparison {op}"),
            ProfileError::Arch(arch) => write!(f, "architecture {arch} is not supported"),
            ProfileError::AllowsEverything => write!(f, "the profile allows every syscall: nothing to install"),
            ProfileError::Compile(e) => write!(f, "compiling the filter: {e}"),
        }
    }
}

impl std::error::Error for ProfileError {}

/// A profile compiled for this machine: BPF programs to install in order.
pub struct Compiled {
    /// Installed first to last; the kernel applies the most restrictive verdict of all.
    pub programs: Vec<BpfProgram>,
    /// Syscall names in the profile that this architecture does not have (skipped).
    pub unknown_names: BTreeSet<String>,
    /// Syscall names the profile allows unconditionally on this architecture.
    pub allowed: BTreeSet<String>,
}

/// One rule after filtering by architecture and capabilities.
struct Rule {
    names: Vec<String>,
    action: SeccompAction,
    /// Alternatives, each a conjunction; empty means unconditional.
    conditions: Vec<Vec<SeccompCondition>>,
}

/// Compiles `profile_json` for this machine, for a process holding `caps` (e.g. none).
pub fn compile(profile_json: &str, caps: &[&str]) -> Result<Compiled, ProfileError> {
    let profile: Value = serde_json::from_str(profile_json).map_err(|e| ProfileError::Json(e.to_string()))?;
    let arch = std::env::consts::ARCH;
    let target = TargetArch::try_from(arch).map_err(|_| ProfileError::Arch(arch.into()))?;
    let default_errno = profile.get("defaultErrnoRet").and_then(Value::as_u64).unwrap_or(libc::EPERM as u64) as u32;
    let default = action(&profile, "defaultAction", "defaultAction", default_errno)?;
    let rules = rules(&profile, caps, default_errno)?;
    build(rules, default, target)
}

/// Syscall number -> alternatives (`None`: matched unconditionally).
type SyscallTable = BTreeMap<i64, Option<Vec<SeccompRule>>>;

fn build(rules: Vec<Rule>, default: SeccompAction, target: TargetArch) -> Result<Compiled, ProfileError> {
    let mut compiled = Compiled { programs: Vec::new(), unknown_names: BTreeSet::new(), allowed: BTreeSet::new() };
    let mut by_action = tables(rules, &default, &mut compiled)?;
    if default == SeccompAction::Allow && by_action.is_empty() {
        return Err(ProfileError::AllowsEverything);
    }
    // The allow filter carries the default action; the others allow what they do not match.
    // The allow filter goes first: on equal precedence the later filter's verdict wins, so a
    // rule's own errno beats the default's.
    by_action.sort_by_key(|(action, _)| *action != SeccompAction::Allow);
    let has_allow = by_action.first().is_some_and(|(a, _)| *a == SeccompAction::Allow);
    if default != SeccompAction::Allow && !has_allow {
        by_action.insert(0, (SeccompAction::Allow, BTreeMap::new()));
    }
    for (action, table) in by_action {
        let rules: BTreeMap<i64, Vec<SeccompRule>> =
            table.into_iter().map(|(nr, alternatives)| (nr, alternatives.unwrap_or_default())).collect();
        let (mismatch, on_match) = if action == SeccompAction::Allow {
            (default.clone(), SeccompAction::Allow)
        } else {
            (SeccompAction::Allow, action)
        };
        let filter =
            SeccompFilter::new(rules, mismatch, on_match, target).map_err(|e| ProfileError::Compile(e.to_string()))?;
        compiled.programs.push(BpfProgram::try_from(filter).map_err(|e| ProfileError::Compile(e.to_string()))?);
    }
    Ok(compiled)
}

/// One table per action other than the default, with the names resolved for this machine.
fn tables(
    rules: Vec<Rule>,
    default: &SeccompAction,
    compiled: &mut Compiled,
) -> Result<Vec<(SeccompAction, SyscallTable)>, ProfileError> {
    let mut by_action: Vec<(SeccompAction, SyscallTable)> = Vec::new();
    for rule in rules.into_iter().filter(|r| r.action != *default) {
        let index = match by_action.iter().position(|(a, _)| *a == rule.action) {
            Some(i) => i,
            None => {
                by_action.push((rule.action.clone(), BTreeMap::new()));
                by_action.len() - 1
            }
        };
        for name in &rule.names {
            let Ok(sysno) = syscalls::Sysno::from_str(name) else {
                compiled.unknown_names.insert(name.clone());
                continue;
            };
            if rule.action == SeccompAction::Allow && rule.conditions.is_empty() {
                compiled.allowed.insert(name.clone());
            }
            let entry = by_action[index].1.entry(i64::from(sysno.id())).or_insert_with(|| Some(Vec::new()));
            if rule.conditions.is_empty() {
                *entry = None;
            } else if let Some(alternatives) = entry.as_mut() {
                for conjunction in &rule.conditions {
                    alternatives
                        .push(SeccompRule::new(conjunction.clone()).map_err(|e| ProfileError::Compile(e.to_string()))?);
                }
            }
        }
    }
    Ok(by_action)
}

/// Installs the programs on the calling thread (and what it execs). Allocates nothing, so it
/// may run between fork and exec.
pub fn install(programs: &[BpfProgram]) -> std::io::Result<()> {
    for program in programs {
        if let Err(err) = seccompiler::apply_filter(program) {
            return Err(match err {
                seccompiler::Error::Prctl(e) | seccompiler::Error::Seccomp(e) => e,
                _ => std::io::Error::from_raw_os_error(libc::EINVAL),
            });
        }
    }
    Ok(())
}

/// The OCI name of this architecture (`amd64`, `arm64`), as `includes.arches` spells it.
fn oci_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    }
}

fn strings(value: Option<&Value>, at: &str) -> Result<Vec<String>, ProfileError> {
    match value {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| v.as_str().map(str::to_owned).ok_or(ProfileError::Field { at: at.into(), expected: "strings" }))
            .collect(),
        Some(_) => Err(ProfileError::Field { at: at.into(), expected: "a list of strings" }),
    }
}

/// Whether a rule applies on this architecture to a process holding `caps`.
fn applies(rule: &Value, at: &str, caps: &[&str]) -> Result<bool, ProfileError> {
    let arch = oci_arch();
    let includes = rule.get("includes");
    let excludes = rule.get("excludes");
    let inc_arches = strings(includes.and_then(|i| i.get("arches")), &format!("{at}.includes.arches"))?;
    let inc_caps = strings(includes.and_then(|i| i.get("caps")), &format!("{at}.includes.caps"))?;
    let exc_arches = strings(excludes.and_then(|i| i.get("arches")), &format!("{at}.excludes.arches"))?;
    let exc_caps = strings(excludes.and_then(|i| i.get("caps")), &format!("{at}.excludes.caps"))?;
    Ok((inc_arches.is_empty() || inc_arches.iter().any(|a| a == arch))
        && inc_caps.iter().all(|c| caps.contains(&c.as_str()))
        && !exc_arches.iter().any(|a| a == arch)
        && !exc_caps.iter().any(|c| caps.contains(&c.as_str())))
}

fn action(value: &Value, field: &str, at: &str, errno: u32) -> Result<SeccompAction, ProfileError> {
    let name = value
        .get(field)
        .and_then(Value::as_str)
        .ok_or(ProfileError::Field { at: at.into(), expected: "an action such as SCMP_ACT_ERRNO" })?;
    Ok(match name {
        "SCMP_ACT_ALLOW" => SeccompAction::Allow,
        "SCMP_ACT_ERRNO" => SeccompAction::Errno(errno),
        "SCMP_ACT_KILL" | "SCMP_ACT_KILL_THREAD" => SeccompAction::KillThread,
        "SCMP_ACT_KILL_PROCESS" => SeccompAction::KillProcess,
        "SCMP_ACT_TRAP" => SeccompAction::Trap,
        "SCMP_ACT_LOG" => SeccompAction::Log,
        other => return Err(ProfileError::Action { at: at.into(), action: other.into() }),
    })
}

fn rules(profile: &Value, caps: &[&str], default_errno: u32) -> Result<Vec<Rule>, ProfileError> {
    let list = match profile.get("syscalls") {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(list)) => list,
        Some(_) => return Err(ProfileError::Field { at: "syscalls".into(), expected: "a list of rules" }),
    };
    let mut out = Vec::new();
    for (i, rule) in list.iter().enumerate() {
        let at = format!("syscalls[{i}]");
        if !applies(rule, &at, caps)? {
            continue;
        }
        let mut names = strings(rule.get("names"), &format!("{at}.names"))?;
        if let Some(name) = rule.get("name").and_then(Value::as_str) {
            names.push(name.into());
        }
        let errno = rule.get("errnoRet").and_then(Value::as_u64).map_or(default_errno, |e| e as u32);
        let action = action(rule, "action", &format!("{at}.action"), errno)?;
        let conditions = conditions(rule.get("args"), &format!("{at}.args"))?;
        out.push(Rule { names, action, conditions });
    }
    Ok(out)
}

/// A rule's argument checks: one conjunction, or (when an index repeats) one alternative each.
fn conditions(args: Option<&Value>, at: &str) -> Result<Vec<Vec<SeccompCondition>>, ProfileError> {
    let list = match args {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(list)) => list,
        Some(_) => return Err(ProfileError::Field { at: at.into(), expected: "a list of argument checks" }),
    };
    let mut parsed = Vec::new();
    for (j, arg) in list.iter().enumerate() {
        let at = format!("{at}[{j}]");
        let number = |field: &str| {
            arg.get(field)
                .and_then(Value::as_u64)
                .ok_or(ProfileError::Field { at: format!("{at}.{field}"), expected: "a number" })
        };
        let index = number("index")?;
        let value = number("value")?;
        let value_two = arg.get("valueTwo").and_then(Value::as_u64).unwrap_or(0);
        let op = arg.get("op").and_then(Value::as_str).unwrap_or_default();
        let (op, operand) = match op {
            "SCMP_CMP_EQ" => (SeccompCmpOp::Eq, value),
            "SCMP_CMP_NE" => (SeccompCmpOp::Ne, value),
            "SCMP_CMP_LT" => (SeccompCmpOp::Lt, value),
            "SCMP_CMP_LE" => (SeccompCmpOp::Le, value),
            "SCMP_CMP_GT" => (SeccompCmpOp::Gt, value),
            "SCMP_CMP_GE" => (SeccompCmpOp::Ge, value),
            "SCMP_CMP_MASKED_EQ" => (SeccompCmpOp::MaskedEq(value), value_two),
            other => return Err(ProfileError::Operator { at, op: other.into() }),
        };
        let index =
            u8::try_from(index).map_err(|_| ProfileError::Field { at: format!("{at}.index"), expected: "0 to 5" })?;
        let condition = SeccompCondition::new(index, SeccompCmpArgLen::Qword, op, operand)
            .map_err(|_| ProfileError::Field { at: format!("{at}.index"), expected: "0 to 5" })?;
        parsed.push((index, condition));
    }
    let indexes: BTreeSet<u8> = parsed.iter().map(|(i, _)| *i).collect();
    if indexes.len() == parsed.len() {
        Ok(vec![parsed.into_iter().map(|(_, c)| c).collect()])
    } else {
        Ok(parsed.into_iter().map(|(_, c)| vec![c]).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_profiles_say_where() {
        let err = compile("{", &[]).err().unwrap();
        assert!(err.to_string().starts_with("not a seccomp profile"), "{err}");
        let err = compile(r#"{"defaultAction":"SCMP_ACT_NOTIFY"}"#, &[]).err().unwrap();
        assert_eq!(
            err.to_string(),
            "defaultAction: action SCMP_ACT_NOTIFY is not supported here (allow, errno, kill, trap, log)"
        );
        let text = r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["read"],"action":"SCMP_ACT_ERRNO","args":[{"index":0,"value":1,"op":"SCMP_CMP_WAT"}]}]}"#;
        assert_eq!(
            compile(text, &[]).err().unwrap().to_string(),
            "syscalls[0].args[0]: unknown comparison SCMP_CMP_WAT"
        );
        let err = compile(r#"{"defaultAction":"SCMP_ACT_ALLOW"}"#, &[]).err().unwrap();
        assert_eq!(err, ProfileError::AllowsEverything);
    }

    #[test]
    fn capabilities_and_arches_select_rules() {
        let text = r#"{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[
            {"names":["read","no_such_call"],"action":"SCMP_ACT_ALLOW"},
            {"names":["chroot"],"action":"SCMP_ACT_ALLOW","includes":{"caps":["CAP_SYS_CHROOT"]}},
            {"names":["write"],"action":"SCMP_ACT_ALLOW","excludes":{"arches":["amd64","arm64"]}}]}"#;
        let none = compile(text, &[]).unwrap();
        assert_eq!(none.allowed.iter().map(String::as_str).collect::<Vec<_>>(), ["read"]);
        assert!(none.unknown_names.contains("no_such_call"));
        let chroot = compile(text, &["CAP_SYS_CHROOT"]).unwrap();
        assert!(chroot.allowed.contains("chroot"));
    }
}
