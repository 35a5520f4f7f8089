//! Scheduling: what each scenario needs to itself ([`needs`]), which may start beside which
//! ([`admission`]), and virtual time shared by the scenarios of one target ([`time`]).

pub(crate) mod admission;
pub(crate) mod needs;
pub(crate) mod time;
