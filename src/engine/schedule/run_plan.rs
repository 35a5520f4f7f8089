//! What a run is asked to do: the targets (each with the scenarios it takes), the selection, strictness
//! and how many scenarios run at once; and which scenarios that plan gives each target.

use authconform_scenario::model::{Capability, Scenario, Suite};

use crate::engine::selection::Selection;
use crate::target::TargetDescription;
use crate::target::state::TargetState;

/// What to run.
#[derive(Debug, Clone)]
pub struct RunPlan {
    pub targets: Vec<TargetPlan>,
    pub selection: Selection,
    /// Warnings count as failures.
    pub strict: bool,
    /// At most this many scenarios of one target at once; 1 runs everything in suite order, one target
    /// after another.
    pub jobs: usize,
}

#[derive(Debug, Clone)]
pub struct TargetPlan {
    pub description: TargetDescription,
    /// Run only the scenarios that need this capability, in the scenario or one of its steps (e.g. a second
    /// instance configured for it).
    pub only_requiring: Option<Capability>,
    /// A load run: concurrent steps run at the meter's users, and their answers are timed into it.
    pub meter: Option<std::sync::Arc<crate::engine::Meter>>,
    /// What earlier runs did to the target (its state file), counted by the schedule: on a real clock only.
    pub earlier: Option<TargetState>,
    /// Whether `earlier` holds every signup sent from the runner's address inside a window (a state file
    /// is kept): the IP check may then count those known to count instead of waiting them out.
    pub knows_history: bool,
    /// Stops the run on this target from outside (Ctrl-C); the default never fires.
    pub interrupt: crate::engine::Interrupt,
}

impl TargetPlan {
    pub fn new(description: TargetDescription) -> TargetPlan {
        TargetPlan {
            description,
            only_requiring: None,
            meter: None,
            earlier: None,
            knows_history: false,
            interrupt: crate::engine::Interrupt::default(),
        }
    }

    /// Whether the scenario runs here: every scenario, or under `only_requiring` those that need the
    /// capability, for the whole scenario or for one of its steps.
    fn includes(&self, scenario: &Scenario) -> bool {
        self.only_requiring.is_none_or(|cap| {
            scenario.requires.contains(&cap)
                || scenario
                    .steps
                    .iter()
                    .any(|step| step.requires.contains(&cap))
        })
    }
}

/// The scenarios the plan runs on one target: selected, for the target's profiles, and for its capability.
pub fn planned_scenarios<'s>(
    suite: &'s Suite,
    plan: &'s RunPlan,
    target: &'s TargetPlan,
) -> impl Iterator<Item = &'s Scenario> {
    suite.scenarios.iter().filter(move |scenario| {
        plan.selection.selects(scenario)
            && target.includes(scenario)
            && scenario
                .profiles
                .iter()
                .any(|p| target.description.profiles.contains(p))
    })
}
