//! `detect` names the right profile for the reference server in each of its profiles, and nothing for a
//! server that is not an authentication API.

use authconform::detect::detect;
use authconform::target::TargetDescription;
use authconform_reference_server::AppmixerProfile::{self, Appmixer6, Appmixer51, AppmixerCloud};
use authconform_reference_server::Config;
use authconform_scenario::model::Profile;

async fn detect_profile(profile: AppmixerProfile) -> Vec<&'static str> {
    let server = crate::support::start_reference(Config {
        profile,
        ..Config::default()
    })
    .await;
    let target = TargetDescription::new(
        server.base_url().parse().unwrap(),
        vec![Profile::CreditsafeConnect],
    );
    let detection = detect(&target).await.unwrap();
    server.shutdown().await.unwrap();
    assert!(detection.evidence.len() >= 4, "{:#?}", detection.evidence);
    detection.profiles()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn detect_names_each_reference_profile() {
    assert_eq!(
        detect_profile(Appmixer51).await,
        ["appmixer-5.1", "creditsafe-connect"]
    );
    assert_eq!(
        detect_profile(Appmixer6).await,
        ["appmixer-6", "creditsafe-connect"]
    );
    assert_eq!(
        detect_profile(AppmixerCloud).await,
        ["appmixer-cloud", "creditsafe-connect"]
    );
}

#[tokio::test]
async fn a_server_that_is_no_authentication_api_matches_nothing() {
    use wiremock::matchers::any;
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(404))
        .mount(&server)
        .await;
    let target = TargetDescription::new(
        server.uri().parse().unwrap(),
        vec![Profile::CreditsafeConnect],
    );
    let detection = detect(&target).await.unwrap();
    assert!(detection.profiles().is_empty(), "{:#?}", detection);
}
