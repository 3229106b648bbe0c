//! Every HTTP route of the service, in one place. Handlers live with their feature.

use utoipa_actix_web::scope;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::registry::{catalog, contracts, directory, parks, warehouses};
use crate::{auth, health, identity, lots, openapi};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(health::healthz)
        .service(health::readyz)
        .service(
            scope::scope("/api/v1")
                .service(openapi::serve)
                // Authentication and identity
                .service(auth::routes::login)
                .service(auth::routes::refresh)
                .service(auth::routes::logout)
                .service(auth::routes::change_password)
                .service(identity::routes::me)
                .service(identity::routes::list_organizations)
                .service(identity::routes::get_organization)
                .service(identity::routes::create_user)
                .service(identity::routes::list_users)
                .service(identity::routes::get_user)
                .service(identity::routes::update_user)
                // Parks and enterprises
                .service(parks::routes::create_park)
                .service(parks::routes::list_parks)
                .service(parks::routes::get_park)
                .service(parks::routes::update_park)
                .service(parks::routes::park_history)
                .service(parks::routes::create_enterprise)
                .service(parks::routes::list_enterprises)
                .service(parks::routes::get_enterprise)
                .service(parks::routes::update_enterprise)
                .service(parks::routes::enterprise_history)
                // Directory: disposers, licences, carriers, vehicles, bureaus
                .service(directory::routes::create_disposer)
                .service(directory::routes::list_disposers)
                .service(directory::routes::get_disposer)
                .service(directory::routes::update_disposer)
                .service(directory::routes::disposer_history)
                .service(directory::routes::add_licence)
                .service(directory::routes::list_licences)
                .service(directory::routes::end_licence)
                .service(directory::routes::create_carrier)
                .service(directory::routes::list_carriers)
                .service(directory::routes::get_carrier)
                .service(directory::routes::update_carrier)
                .service(directory::routes::carrier_history)
                .service(directory::routes::create_vehicle)
                .service(directory::routes::list_vehicles)
                .service(directory::routes::get_vehicle)
                .service(directory::routes::update_vehicle)
                .service(directory::routes::vehicle_history)
                .service(directory::routes::create_bureau)
                .service(directory::routes::list_bureaus)
                .service(directory::routes::get_bureau)
                .service(directory::routes::update_bureau)
                // Warehouses and zones
                .service(warehouses::routes::create_warehouse)
                .service(warehouses::routes::list_warehouses)
                .service(warehouses::routes::get_warehouse)
                .service(warehouses::routes::update_warehouse)
                .service(warehouses::routes::warehouse_history)
                .service(warehouses::routes::create_zone)
                .service(warehouses::routes::list_zones)
                .service(warehouses::routes::get_zone)
                .service(warehouses::routes::update_zone)
                .service(warehouses::routes::zone_history)
                // Waste catalog
                .service(catalog::routes::list_categories)
                .service(catalog::routes::list_codes)
                .service(catalog::routes::get_code)
                .service(catalog::routes::import)
                .service(catalog::routes::list_imports)
                .service(catalog::routes::get_import)
                // Contracts and alerts
                .service(contracts::routes::create_contract)
                .service(contracts::routes::list_contracts)
                .service(contracts::routes::get_contract)
                .service(contracts::routes::update_contract)
                .service(contracts::routes::contract_history)
                .service(contracts::routes::add_member)
                .service(contracts::routes::end_member)
                .service(contracts::routes::add_price)
                .service(contracts::routes::add_threshold)
                .service(contracts::routes::terms)
                .service(contracts::routes::expirations)
                // Lots, labels, inventory, alarms
                .service(lots::routes::weigh_in)
                .service(lots::routes::declare)
                .service(lots::routes::list)
                .service(lots::routes::get)
                .service(lots::routes::history)
                .service(lots::routes::void)
                .service(lots::routes::correct)
                .service(lots::routes::label_svg)
                .service(lots::routes::label_page)
                .service(lots::routes::inventory)
                .service(lots::routes::alarms),
        );
}
