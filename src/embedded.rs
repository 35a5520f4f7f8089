//! The embedded default: the bundled reference server started in-process (interim: not built in).

use crate::engine::TargetPlan;

#[derive(Debug, thiserror::Error)]
pub enum EmbeddedError {
    #[error("the embedded reference server is not built in; give --target URL")]
    Unavailable,
}

pub struct EmbeddedServers {
    pub targets: Vec<TargetPlan>,
}

impl EmbeddedServers {
    pub async fn start() -> Result<EmbeddedServers, EmbeddedError> {
        Err(EmbeddedError::Unavailable)
    }

    pub async fn shutdown(self) {}
}
