//! The embedded default: the bundled reference server started in-process, once per Appmixer profile (plus
//! a cloud instance with `API_USER_CREATE_SCOPE=admin`, and one that does not trust `X-Forwarded-For`), each with its test clock on and light password
//! hashing (its accounts live only as long as the run), and the target descriptions that check them. The
//! runner meets these servers only over HTTP.

use std::net::SocketAddr;

use authconform_reference_server::{
    AppState, AppmixerProfile, Config, PasswordCost, RunningServer, SeedAccount, StartError,
    random_password,
};
use authconform_scenario::model::{Capability, Profile};

use crate::engine::TargetPlan;
use crate::target::{Account, ClockMode, TargetDescription};

#[derive(Debug, thiserror::Error)]
pub enum EmbeddedError {
    #[error("the embedded reference server could not start")]
    Start(#[from] StartError),
    #[error("the embedded reference server could not listen on 127.0.0.1")]
    Bind(#[source] std::io::Error),
    #[error("the embedded reference server's address is not a URL: {0}")]
    Url(String),
    #[error("the embedded reference server failed to start: {0}")]
    Task(String),
}

/// One embedded instance: how the server is configured and how the runner sees it.
struct Instance {
    name: &'static str,
    profile: AppmixerProfile,
    profiles: Vec<Profile>,
    user_create_scope: Option<&'static str>,
    /// Whether the server takes a client's address from `X-Forwarded-For` (as behind a proxy).
    trust_forwarded_for: bool,
    only_requiring: Option<Capability>,
}

fn instances() -> Vec<Instance> {
    vec![
        Instance {
            name: "reference appmixer-5.1 + creditsafe-connect",
            profile: AppmixerProfile::Appmixer51,
            profiles: vec![Profile::Appmixer51, Profile::CreditsafeConnect],
            user_create_scope: None,
            trust_forwarded_for: true,
            only_requiring: None,
        },
        Instance {
            name: "reference appmixer-6",
            profile: AppmixerProfile::Appmixer6,
            profiles: vec![Profile::Appmixer6],
            user_create_scope: None,
            trust_forwarded_for: true,
            only_requiring: None,
        },
        Instance {
            name: "reference appmixer-cloud",
            profile: AppmixerProfile::AppmixerCloud,
            profiles: vec![Profile::AppmixerCloud],
            user_create_scope: None,
            trust_forwarded_for: true,
            only_requiring: None,
        },
        Instance {
            name: "reference appmixer-cloud (API_USER_CREATE_SCOPE=admin)",
            profile: AppmixerProfile::AppmixerCloud,
            profiles: vec![Profile::AppmixerCloud],
            user_create_scope: Some("admin"),
            trust_forwarded_for: true,
            only_requiring: Some(Capability::CreateScope),
        },
        // Clients connect directly: a client-sent X-Forwarded-For must not change its address, which only
        // a server that does not trust the header can show (AM-SIGNUP-RL-08, CS-LOCKOUT-06).
        Instance {
            name: "reference appmixer-cloud + creditsafe-connect (X-Forwarded-For not trusted)",
            profile: AppmixerProfile::AppmixerCloud,
            profiles: vec![Profile::AppmixerCloud, Profile::CreditsafeConnect],
            user_create_scope: None,
            trust_forwarded_for: false,
            only_requiring: Some(Capability::UntrustedForwardedFor),
        },
    ]
}

/// The running embedded servers and the plans that check them.
pub struct EmbeddedServers {
    pub targets: Vec<TargetPlan>,
    servers: Vec<RunningServer>,
}

impl std::fmt::Debug for EmbeddedServers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmbeddedServers")
            .field("targets", &self.targets.len())
            .finish()
    }
}

impl EmbeddedServers {
    /// Starts every instance on 127.0.0.1 with a free port.
    pub async fn start() -> Result<EmbeddedServers, EmbeddedError> {
        let mut pending = Vec::new();
        for instance in instances() {
            let admin = SeedAccount {
                username: "admin@example.com".into(),
                email: Some("admin@example.com".into()),
                password: random_password(),
            };
            let creditsafe = SeedAccount {
                username: "connect-user@example.com".into(),
                email: None,
                password: random_password(),
            };
            let secret = random_password();
            let config = Config {
                profile: instance.profile,
                user_create_scope: instance.user_create_scope.map(str::to_owned),
                admin: admin.clone(),
                creditsafe_account: creditsafe.clone(),
                appmixer_jwt_secret: Some(secret.clone()),
                test_clock: true,
                trust_forwarded_for: instance.trust_forwarded_for,
                // Refusals name their limit in the IETF draft fields, so GEN-05 is judged too.
                ratelimit_headers: true,
                // The accounts live as long as the run: light hashing keeps hundreds of sign-ins cheap.
                password_cost: PasswordCost::Light,
                ..Config::default()
            };
            // Seeding hashes passwords and makes an RSA key: off the runtime, all instances at once.
            let state = tokio::task::spawn_blocking(move || AppState::new(config));
            pending.push((instance, admin, creditsafe, secret, state));
        }
        let mut targets = Vec::new();
        let mut servers = Vec::new();
        for (instance, admin, creditsafe, secret, state) in pending {
            let state = state
                .await
                .map_err(|error| EmbeddedError::Task(error.to_string()))??;
            let server = RunningServer::start(SocketAddr::from(([127, 0, 0, 1], 0)), state)
                .await
                .map_err(EmbeddedError::Bind)?;
            let base_url = reqwest::Url::parse(&server.base_url())
                .map_err(|error| EmbeddedError::Url(error.to_string()))?;
            let mut description = TargetDescription::new(base_url, instance.profiles);
            description.name = instance.name.to_owned();
            description.clock = ClockMode::Control;
            description.forwarded_for = instance.trust_forwarded_for;
            description.user_create_scope = instance.user_create_scope.map(str::to_owned);
            description.admin = Some(account(admin));
            description.creditsafe = Some(account(creditsafe));
            description.appmixer_jwt_secret = Some(secret);
            targets.push(TargetPlan {
                only_requiring: instance.only_requiring,
                ..TargetPlan::new(description)
            });
            servers.push(server);
        }
        Ok(EmbeddedServers { targets, servers })
    }

    /// Stops every instance.
    pub async fn shutdown(self) {
        for server in self.servers {
            let _ = server.shutdown().await;
        }
    }
}

fn account(seed: SeedAccount) -> Account {
    Account {
        username: seed.username,
        email: seed.email,
        password: seed.password,
    }
}
