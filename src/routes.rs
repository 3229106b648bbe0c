//! Every HTTP route of the service, in one place. Handlers live with their feature.

use utoipa_actix_web::scope;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::{auth, health, identity, openapi};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(health::healthz)
        .service(health::readyz)
        .service(
            scope::scope("/api/v1")
                .service(openapi::serve)
                .service(auth::routes::login)
                .service(auth::routes::refresh)
                .service(auth::routes::logout)
                .service(auth::routes::change_password)
                .service(identity::routes::me)
                .service(identity::routes::create_organization)
                .service(identity::routes::list_organizations)
                .service(identity::routes::get_organization)
                .service(identity::routes::create_user)
                .service(identity::routes::list_users)
                .service(identity::routes::get_user)
                .service(identity::routes::update_user),
        );
}
