//! A verifier's imported state (`Verifier::import`, the record of docs/api.md "Verifier
//! state"): any bytes are either refused, leaving the verifier as it was, or import a state
//! that exports to the same bytes and goes on verifying. Without a panic either way.
#![no_main]

use libfuzzer_sys::fuzz_target;
use qsota::crc32::Crc32s;
use qsota::midstate::STATE_LEN;
use qsota::verify::{CrcPolicy, CrcVariant, Verifier};

const POLICIES: [CrcPolicy; 3] = [
    CrcPolicy::Auto,
    CrcPolicy::Only(CrcVariant::Mpeg2),
    CrcPolicy::Only(CrcVariant::IsoHdlc),
];

fuzz_target!(|data: &[u8]| {
    // The first byte picks the policy and whether the record is resealed (its check value
    // made right, so that the field checks behind it are reached); the next STATE_LEN bytes
    // are the record, the rest more image bytes.
    let Some((&which, rest)) = data.split_first() else {
        return;
    };
    let (record, more) = rest.split_at(rest.len().min(STATE_LEN));
    let mut state = [0u8; STATE_LEN];
    state[..record.len()].copy_from_slice(record);
    let state = if which & 4 != 0 && record.len() == STATE_LEN {
        let mut crc = Crc32s::new();
        crc.update(&state[..STATE_LEN - 4], false, true);
        state[STATE_LEN - 4..].copy_from_slice(&crc.iso_hdlc().to_le_bytes());
        &state[..]
    } else {
        record
    };
    let mut v = Verifier::new();
    v.set_crc_policy(POLICIES[usize::from(which) % 3]).unwrap();
    let fresh = v.export().unwrap();
    match v.import(state) {
        Ok(()) => assert_eq!(&v.export().unwrap()[..], state),
        Err(_) => assert_eq!(v.export().unwrap(), fresh),
    }
    v.update(more).unwrap();
    let _ = v.export().unwrap();
    v.check();
});
