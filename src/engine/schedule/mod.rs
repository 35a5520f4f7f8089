//! Scheduling: what each scenario needs to itself ([`needs`]), which may start beside which
//! ([`admission`]), what a run is asked to do ([`run_plan`]), the projected schedule of a run ([`plan`]), and
//! virtual time shared by the scenarios of one target ([`time`]).

pub(crate) mod admission;
pub(crate) mod needs;
pub(crate) mod plan;
pub(crate) mod run_plan;
pub(crate) mod signups;
pub(crate) mod time;
