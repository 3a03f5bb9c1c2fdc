//! Figures of a result file that no run writes together (a hand-edited file): refused when it
//! is read, naming the field, so that `compare` never shows a share or a rate made of them.

use super::*;

/// The first transaction whose failures are more than its attempts or its completions.
pub(super) fn check_transactions(read: &ResultFile, file: &str) -> Result<(), ResultFileError> {
    for (index, txn) in read.transactions.iter().enumerate() {
        let shape = |field: &str, why: String| ResultFileError::Shape {
            file: file.to_string(),
            at: format!("transactions[{index}].{field}: "),
            why,
        };
        // Every failed transaction is one completed (`count` = ok + errors).
        if txn.errors > txn.count {
            return Err(shape("errors", format!("more failed than completed ({} > {})", txn.errors, txn.count)));
        }
        let requests = &txn.requests;
        // Files written before `attempts` existed counted every attempt as a request.
        let attempts = requests.attempts.unwrap_or(requests.count.saturating_add(requests.not_sent));
        if requests.errors > attempts {
            let why = format!("more failed than attempted ({} > {attempts})", requests.errors);
            return Err(shape("requests.errors", why));
        }
    }
    Ok(())
}
