//! Profile detection: a few harmless probes tell which documented profiles a target matches (appmixer-5.1,
//! appmixer-6, appmixer-cloud; Creditsafe Connect present or not), with the evidence for each conclusion.

use serde::Serialize;
use serde_json::{Value, json};

use crate::target::{ClientError, PreparedRequest, RunIds, TargetClient, TargetDescription};

/// One probe and what it showed.
#[derive(Debug, Clone, Serialize)]
pub struct Evidence {
    pub request: String,
    pub status: Option<u16>,
    pub observation: String,
}

/// What the probes concluded.
#[derive(Debug, Clone, Serialize)]
pub struct Detection {
    pub target: String,
    /// `appmixer-5.1`, `appmixer-6` or `appmixer-cloud`, when the Appmixer API answered like one of them.
    pub appmixer: Option<&'static str>,
    pub creditsafe_connect: bool,
    pub evidence: Vec<Evidence>,
}

impl Detection {
    /// The profiles to pass to `run --profile`.
    pub fn profiles(&self) -> Vec<&'static str> {
        let mut profiles: Vec<&'static str> = self.appmixer.into_iter().collect();
        if self.creditsafe_connect {
            profiles.push("creditsafe-connect");
        }
        profiles
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DetectError {
    #[error(transparent)]
    Client(#[from] ClientError),
}

/// The probes, sent to the target's first base URL, and what each showed.
struct Prober {
    client: TargetClient,
    evidence: Vec<Evidence>,
}

impl Prober {
    async fn send(
        &mut self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (Option<u16>, Value) {
        let request = PreparedRequest::json(method, path, body.as_ref());
        match self.client.send_to(0, &request).await {
            Ok(response) => (
                Some(response.status),
                response.json().unwrap_or(Value::Null),
            ),
            Err(_) => (None, Value::Null),
        }
    }

    fn note(&mut self, request: String, status: Option<u16>, observation: impl Into<String>) {
        self.evidence.push(Evidence {
            request,
            status,
            observation: observation.into(),
        });
    }
}

/// Probes a target. Creates one user with a fresh identity (to read the shape of the create-user answer).
pub async fn detect(target: &TargetDescription) -> Result<Detection, DetectError> {
    let mut prober = Prober {
        client: TargetClient::new(target)?,
        evidence: Vec::new(),
    };
    let post = reqwest::Method::POST;

    // Creditsafe Connect: an invalid request is 401 (or 400), never 404.
    let (status, _) = prober
        .send(
            post.clone(),
            "/authenticate",
            Some(json!({ "username": "authconform-detect" })),
        )
        .await;
    let creditsafe_connect = matches!(status, Some(400 | 401 | 429));
    prober.note(
        "POST /authenticate {username}".into(),
        status,
        if creditsafe_connect {
            "answers like Creditsafe Connect"
        } else {
            "no Creditsafe Connect endpoint"
        },
    );

    // Appmixer: GET /user without a token is 401.
    let (status, _) = prober.send(reqwest::Method::GET, "/user", None).await;
    let appmixer_present = status == Some(401);
    prober.note(
        "GET /user without a token".into(),
        status,
        if appmixer_present {
            "an Appmixer user API"
        } else {
            "no Appmixer user API"
        },
    );
    if !appmixer_present {
        return Ok(Detection {
            target: target.base_url.to_string(),
            appmixer: None,
            creditsafe_connect,
            evidence: prober.evidence,
        });
    }

    // 5.1 signs in by an e-mail-shaped username only: e-mail alone is refused with 4xx other than 401.
    let (status, _) = prober
        .send(
            post.clone(),
            "/user/auth",
            Some(json!({ "email": "authconform-detect@example.com", "password": "not-the-password" })),
        )
        .await;
    let email_sign_in = status == Some(401);
    prober.note(
        "POST /user/auth {email, password}".into(),
        status,
        if email_sign_in {
            "sign-in by e-mail is accepted (6 or cloud)"
        } else {
            "sign-in needs a username (5.1)"
        },
    );

    // The shape of the create-user answer separates 6 (user with vendor) from cloud.
    let id = RunIds::new().run_id;
    let name = format!("detect.{id}@example.com");
    let body = json!({ "username": name, "email": name, "password": format!("Detect-{id}-pw") });
    let request = "POST /user {username, email, password}".to_owned();
    let (status, answer) = prober.send(post.clone(), "/user", Some(body)).await;
    // Without `vendor`, sign-in by e-mail separates cloud from 5.1.
    let by_sign_in = if email_sign_in {
        "appmixer-cloud"
    } else {
        "appmixer-5.1"
    };
    let user = answer.get("user");
    let (profile, observation) = match status {
        Some(200) if user.is_some_and(|u| u.get("vendor").is_some()) => {
            ("appmixer-6", "created; the user has `vendor`")
        }
        Some(200) if user.is_some() => (by_sign_in, "created; the user has no `vendor`"),
        Some(200) => (by_sign_in, "created; the answer is only a token"),
        _ => (
            by_sign_in,
            "not created (a create scope or a limit): judged by sign-in alone",
        ),
    };
    prober.note(request, status, observation);
    let appmixer = Some(profile);
    Ok(Detection {
        target: target.base_url.to_string(),
        appmixer,
        creditsafe_connect,
        evidence: prober.evidence,
    })
}
