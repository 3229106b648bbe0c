//! Diesel table definitions, shared by both backends.
//!
//! Only portable SQL types appear here (Text, Integer, BigInt, Timestamp, Date): the
//! `MultiConnection` backend maps nothing else. Booleans are modelled as nullable timestamps
//! (`deactivated_at`), which also record when the change happened.

diesel::table! {
    organizations (id) {
        id -> Text,
        kind -> Text,
        name -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    users (id) {
        id -> Text,
        organization_id -> Text,
        username -> Text,
        display_name -> Text,
        role -> Text,
        password_hash -> Text,
        deactivated_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        dg_qualification_number -> Nullable<Text>,
        dg_qualification_valid_until -> Nullable<Date>,
    }
}

diesel::table! {
    sessions (id) {
        id -> Text,
        user_id -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
        revoked_reason -> Nullable<Text>,
    }
}

diesel::table! {
    refresh_tokens (token_hash) {
        token_hash -> Text,
        session_id -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    login_failures (id) {
        id -> Text,
        scope -> Text,
        subject -> Text,
        failed_at -> Timestamp,
    }
}

diesel::table! {
    manifest_places (manifest_id) {
        manifest_id -> Text,
        escort_id -> Nullable<Text>,
        departure_address -> Text,
        destination_address -> Text,
    }
}

diesel::table! {
    parks (organization_id) {
        organization_id -> Text,
        region_code -> Text,
        address -> Text,
        time_zone -> Text,
        collection_permit_number -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        require_official_number -> Bool,
        uscc -> Nullable<Text>,
        permit_valid_from -> Nullable<Date>,
        permit_valid_until -> Nullable<Date>,
        permit_scope -> Text,
        permit_annual_capacity_grams -> Nullable<BigInt>,
        label_scan_general -> Bool,
    }
}

diesel::table! {
    enterprises (organization_id) {
        organization_id -> Text,
        park_id -> Text,
        uscc -> Text,
        contact_name -> Text,
        contact_phone -> Text,
        joined_on -> Date,
        left_on -> Nullable<Date>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    disposers (organization_id) {
        organization_id -> Text,
        uscc -> Text,
        region_code -> Text,
        address -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    licences (id) {
        id -> Text,
        disposer_id -> Text,
        number -> Text,
        issuing_authority -> Text,
        valid_from -> Date,
        valid_to -> Date,
        annual_capacity_grams -> BigInt,
        scope -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    carriers (organization_id) {
        organization_id -> Text,
        uscc -> Text,
        region_code -> Text,
        transport_permit_number -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        transport_permit_valid_until -> Nullable<Date>,
    }
}

diesel::table! {
    vehicles (id) {
        id -> Text,
        operator_id -> Text,
        plate -> Text,
        dangerous_goods_permit_number -> Text,
        retired_on -> Nullable<Date>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        dangerous_goods_permit_valid_until -> Nullable<Date>,
    }
}

diesel::table! {
    bureaus (organization_id) {
        organization_id -> Text,
        jurisdiction -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    warehouses (id) {
        id -> Text,
        park_id -> Text,
        name -> Text,
        address -> Text,
        closed_on -> Nullable<Date>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    zones (id) {
        id -> Text,
        warehouse_id -> Text,
        name -> Text,
        kind -> Text,
        categories -> Text,
        capacity_grams -> BigInt,
        closed_on -> Nullable<Date>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        stored_grams -> BigInt,
        enterprise_id -> Nullable<Text>,
    }
}

diesel::table! {
    waste_categories (code) {
        code -> Text,
        kind -> Text,
        name_zh -> Text,
        name_en -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    waste_codes (code) {
        code -> Text,
        kind -> Text,
        category -> Text,
        name_zh -> Text,
        characteristics -> Text,
        withdrawn_on -> Nullable<Date>,
        edition -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    catalog_imports (id) {
        id -> Text,
        imported_by -> Text,
        imported_at -> Timestamp,
        edition -> Nullable<Text>,
        lines -> Integer,
        accepted -> Integer,
        rejected -> Integer,
        report -> Text,
    }
}

diesel::table! {
    contracts (id) {
        id -> Text,
        park_id -> Text,
        disposer_id -> Text,
        number -> Text,
        valid_from -> Date,
        valid_to -> Date,
        max_storage_days -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        pickup_zone_percent -> Integer,
    }
}

diesel::table! {
    contract_members (id) {
        id -> Text,
        contract_id -> Text,
        enterprise_id -> Text,
        joined_on -> Date,
        left_on -> Nullable<Date>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    contract_prices (id) {
        id -> Text,
        contract_id -> Text,
        target -> Text,
        fen_per_tonne -> BigInt,
        effective_from -> Date,
        created_at -> Timestamp,
        created_by -> Nullable<Text>,
    }
}

diesel::table! {
    contract_thresholds (id) {
        id -> Text,
        contract_id -> Text,
        target -> Text,
        threshold_grams -> BigInt,
        effective_from -> Date,
        created_at -> Timestamp,
        created_by -> Nullable<Text>,
    }
}

diesel::table! {
    revisions (id) {
        id -> Text,
        entity -> Text,
        entity_id -> Text,
        recorded_at -> Timestamp,
        recorded_by -> Nullable<Text>,
        data -> Text,
    }
}

diesel::table! {
    lots (id) {
        id -> Text,
        park_id -> Text,
        enterprise_id -> Text,
        contract_id -> Text,
        route -> Text,
        status -> Text,
        waste_code -> Text,
        kind -> Text,
        category -> Text,
        physical_form -> Text,
        container_type -> Text,
        container_count -> Integer,
        container_litres -> Nullable<Integer>,
        warehouse_id -> Nullable<Text>,
        zone_id -> Nullable<Text>,
        gross_grams -> Nullable<BigInt>,
        tare_grams -> Nullable<BigInt>,
        net_grams -> BigInt,
        weight_source -> Text,
        scale_id -> Nullable<Text>,
        captured_at -> Timestamp,
        received_at -> Timestamp,
        recorded_by -> Text,
        produced_on -> Date,
        main_components -> Nullable<Text>,
        note -> Nullable<Text>,
        label_code -> Nullable<Text>,
        voided_at -> Nullable<Timestamp>,
        void_reason -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        pickup_request_id -> Nullable<Text>,
    }
}

diesel::table! {
    lot_events (id) {
        id -> Text,
        lot_id -> Text,
        kind -> Text,
        at -> Timestamp,
        by_user -> Text,
        reason -> Nullable<Text>,
        data -> Text,
    }
}

diesel::table! {
    inventory (zone_id, contract_id, waste_code) {
        zone_id -> Text,
        contract_id -> Text,
        waste_code -> Text,
        grams -> BigInt,
        lots -> Integer,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    label_sequences (enterprise_id, waste_code, day) {
        enterprise_id -> Text,
        waste_code -> Text,
        day -> Date,
        last -> Integer,
    }
}

diesel::table! {
    lot_containers (lot_id, position) {
        lot_id -> Text,
        position -> Integer,
        label_code -> Nullable<Text>,
        grams -> Nullable<BigInt>,
        verify_token -> Text,
    }
}

diesel::table! {
    lot_label_texts (lot_id) {
        lot_id -> Text,
        harmful_components -> Nullable<Text>,
        precautions -> Nullable<Text>,
    }
}

diesel::table! {
    idempotency_keys (user_id, key) {
        user_id -> Text,
        key -> Text,
        fingerprint -> Text,
        locked_at -> Timestamp,
        status -> Nullable<Integer>,
        location -> Nullable<Text>,
        body -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    pickup_requests (id) {
        id -> Text,
        park_id -> Text,
        contract_id -> Text,
        disposer_id -> Text,
        route -> Text,
        warehouse_id -> Nullable<Text>,
        category -> Text,
        status -> Text,
        trigger_kind -> Text,
        trigger_detail -> Text,
        open_key -> Nullable<Text>,
        note -> Nullable<Text>,
        scheduled_on -> Nullable<Date>,
        carrier_id -> Nullable<Text>,
        vehicle_id -> Nullable<Text>,
        driver_id -> Nullable<Text>,
        reason -> Nullable<Text>,
        created_by -> Nullable<Text>,
        created_at -> Timestamp,
        accepted_at -> Nullable<Timestamp>,
        accepted_by -> Nullable<Text>,
        scheduled_at -> Nullable<Timestamp>,
        scheduled_by -> Nullable<Text>,
        closed_at -> Nullable<Timestamp>,
        closed_by -> Nullable<Text>,
        updated_at -> Timestamp,
        escort_id -> Nullable<Text>,
    }
}

diesel::table! {
    /// The phase of the days a park's lot volumes are added up by: its standard UTC offset.
    park_day_phase (park_id) {
        park_id -> Text,
        minutes -> Integer,
    }
}

diesel::table! {
    /// The weighed lots added up per park, day, code, enterprise and contract, kept by
    /// triggers on `lots`.
    lot_volumes (park_id, day, waste_code, enterprise_id, contract_id) {
        park_id -> Text,
        day -> Date,
        waste_code -> Text,
        enterprise_id -> Text,
        contract_id -> Text,
        grams -> BigInt,
        lots -> BigInt,
    }
}

diesel::table! {
    /// Running totals of what waits for collection, kept by triggers on `lots`.
    pickup_waiting (contract_id, place, category, zone, waste_code) {
        contract_id -> Text,
        place -> Text,
        category -> Text,
        zone -> Text,
        waste_code -> Text,
        grams -> BigInt,
        lots -> BigInt,
        oldest -> Nullable<Timestamp>,
    }
}

diesel::table! {
    pickup_request_lots (request_id, lot_id) {
        request_id -> Text,
        lot_id -> Text,
        enterprise_id -> Text,
        added_at -> Timestamp,
    }
}

diesel::table! {
    messages (id) {
        id -> Text,
        organization_id -> Text,
        #[sql_name = "type"]
        type_ -> Text,
        subject_id -> Text,
        title -> Text,
        data -> Text,
        created_at -> Timestamp,
        read_at -> Nullable<Timestamp>,
        read_by -> Nullable<Text>,
    }
}

diesel::table! {
    notices (key) {
        key -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    webhook_endpoints (id) {
        id -> Text,
        organization_id -> Text,
        url -> Text,
        description -> Nullable<Text>,
        event_types -> Text,
        secret -> Text,
        previous_secret -> Nullable<Text>,
        previous_expires_at -> Nullable<Timestamp>,
        status -> Text,
        disabled_reason -> Nullable<Text>,
        failing_since -> Nullable<Timestamp>,
        created_by -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    webhook_deliveries (id) {
        id -> Text,
        message_id -> Text,
        endpoint_id -> Text,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        claimed_until -> Nullable<Timestamp>,
        last_status -> Nullable<Integer>,
        last_error -> Nullable<Text>,
        delivered_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    delivery_attempts (id) {
        id -> Text,
        delivery_id -> Text,
        attempted_at -> Timestamp,
        http_status -> Nullable<Integer>,
        error -> Nullable<Text>,
        duration_ms -> BigInt,
    }
}

diesel::table! {
    collections (id) {
        id -> Text,
        request_id -> Text,
        park_id -> Text,
        carrier_id -> Text,
        vehicle_id -> Text,
        driver_id -> Text,
        scale_id -> Text,
        gross_grams -> Nullable<BigInt>,
        tare_grams -> Nullable<BigInt>,
        net_grams -> BigInt,
        captured_at -> Timestamp,
        recorded_by -> Text,
        created_at -> Timestamp,
        escort_id -> Nullable<Text>,
    }
}

diesel::table! {
    manifest_counters (prefix) {
        prefix -> Text,
        last -> BigInt,
    }
}

diesel::table! {
    manifests (id) {
        id -> Text,
        number -> Text,
        kind -> Text,
        collection_id -> Text,
        park_id -> Text,
        region_code -> Text,
        status -> Text,
        consignor_type -> Text,
        consignor_id -> Text,
        carrier_id -> Text,
        vehicle_id -> Text,
        driver_id -> Text,
        receiver_id -> Text,
        licence_id -> Nullable<Text>,
        waste_code -> Text,
        category -> Text,
        physical_form -> Text,
        packaging -> Text,
        emergency_measures -> Text,
        inbound_grams -> BigInt,
        outbound_grams -> BigInt,
        received_grams -> Nullable<BigInt>,
        refused_grams -> Nullable<BigInt>,
        decision -> Nullable<Text>,
        treatment -> Nullable<Text>,
        receipt_due_on -> Nullable<Date>,
        flag_detail -> Nullable<Text>,
        case_status -> Nullable<Text>,
        case_resolution -> Nullable<Text>,
        version -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    manifest_follows (manifest_id) {
        manifest_id -> Text,
        follows_manifest_id -> Text,
        reason -> Text,
    }
}

diesel::table! {
    manifest_refusals (manifest_id, lot_id) {
        manifest_id -> Text,
        lot_id -> Text,
        enterprise_id -> Text,
        grams -> BigInt,
    }
}

diesel::table! {
    manifest_outbounds (manifest_id) {
        manifest_id -> Text,
        basis -> Text,
        scale_id -> Nullable<Text>,
        captured_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    manifest_official_numbers (manifest_id) {
        manifest_id -> Text,
        official_number -> Text,
        recorded_by -> Text,
        recorded_at -> Timestamp,
    }
}

diesel::table! {
    manifest_lots (manifest_id, lot_id) {
        manifest_id -> Text,
        lot_id -> Text,
        enterprise_id -> Text,
        inbound_grams -> BigInt,
    }
}

diesel::table! {
    manifest_signatures (id) {
        id -> Text,
        manifest_id -> Text,
        step -> Text,
        user_id -> Text,
        organization_id -> Text,
        role -> Text,
        at -> Timestamp,
        data -> Nullable<Text>,
        document_sha256 -> Nullable<Text>,
    }
}

diesel::table! {
    manifest_records (manifest_id, seq) {
        manifest_id -> Text,
        seq -> Integer,
        version -> Integer,
        event -> Text,
        signature_id -> Nullable<Text>,
        document -> Text,
        sha256 -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    audit_entries (seq) {
        seq -> BigInt,
        prev_hash -> Text,
        hash -> Text,
        at -> Timestamp,
        request_id -> Nullable<Text>,
        user_id -> Nullable<Text>,
        organization_id -> Nullable<Text>,
        role -> Nullable<Text>,
        action -> Text,
        object -> Text,
        park_id -> Nullable<Text>,
        summary -> Text,
    }
}

diesel::table! {
    manifest_versions (manifest_id, version) {
        manifest_id -> Text,
        version -> Integer,
        data -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    manifest_revisions (id) {
        id -> Text,
        manifest_id -> Text,
        proposed_by -> Text,
        proposed_org -> Text,
        reason -> Text,
        changes -> Text,
        status -> Text,
        needed -> Text,
        approved -> Text,
        decided_by -> Nullable<Text>,
        created_at -> Timestamp,
        decided_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    statements (id) {
        id -> Text,
        number -> Text,
        park_id -> Text,
        enterprise_id -> Text,
        period -> Text,
        total_fen -> BigInt,
        due_on -> Date,
        issued_at -> Timestamp,
        issued_by -> Text,
    }
}

diesel::table! {
    statement_lines (statement_id, lot_id) {
        statement_id -> Text,
        lot_id -> Text,
        contract_id -> Text,
        disposer_id -> Text,
        waste_code -> Text,
        billable_on -> Date,
        grams -> BigInt,
        fen_per_tonne -> BigInt,
        amount_fen -> BigInt,
    }
}

diesel::table! {
    statement_totals (statement_id, waste_code) {
        statement_id -> Text,
        waste_code -> Text,
        grams -> BigInt,
        amount_fen -> BigInt,
        lines -> BigInt,
    }
}

diesel::table! {
    billing_notes (id) {
        id -> Text,
        statement_id -> Text,
        enterprise_id -> Text,
        park_id -> Text,
        disposer_id -> Text,
        lot_id -> Nullable<Text>,
        period -> Text,
        amount_fen -> BigInt,
        reason -> Text,
        created_at -> Timestamp,
        created_by -> Text,
    }
}

diesel::table! {
    payments (id) {
        id -> Text,
        park_id -> Text,
        enterprise_id -> Text,
        amount_fen -> BigInt,
        paid_on -> Date,
        reference -> Nullable<Text>,
        recorded_by -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    wechat_links (user_id) {
        user_id -> Text,
        appid -> Text,
        openid -> Text,
        unionid -> Nullable<Text>,
        linked_at -> Timestamp,
    }
}

diesel::table! {
    stock_movements (id) {
        id -> Text,
        park_id -> Text,
        warehouse_id -> Text,
        zone_id -> Text,
        enterprise_id -> Text,
        contract_id -> Text,
        lot_id -> Text,
        waste_code -> Text,
        kind -> Text,
        category -> Text,
        movement -> Text,
        grams -> BigInt,
        lots -> Integer,
        at -> Timestamp,
        recorded_at -> Timestamp,
        document_number -> Nullable<Text>,
        receiver_id -> Nullable<Text>,
        receiver_name -> Nullable<Text>,
        by_user -> Text,
    }
}

diesel::table! {
    workday_years (year) {
        year -> Integer,
        source -> Nullable<Text>,
        updated_by -> Text,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    workday_days (day) {
        day -> Date,
        year -> Integer,
        kind -> Text,
    }
}

diesel::joinable!(users -> organizations (organization_id));
diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(refresh_tokens -> sessions (session_id));

diesel::joinable!(parks -> organizations (organization_id));
diesel::joinable!(enterprises -> organizations (organization_id));
diesel::joinable!(disposers -> organizations (organization_id));
diesel::joinable!(carriers -> organizations (organization_id));
diesel::joinable!(bureaus -> organizations (organization_id));
diesel::joinable!(licences -> disposers (disposer_id));
diesel::joinable!(warehouses -> parks (park_id));
diesel::joinable!(zones -> warehouses (warehouse_id));
diesel::joinable!(waste_codes -> waste_categories (category));
diesel::joinable!(contract_members -> contracts (contract_id));
diesel::joinable!(contract_prices -> contracts (contract_id));
diesel::joinable!(contract_thresholds -> contracts (contract_id));
diesel::joinable!(contracts -> parks (park_id));
diesel::joinable!(enterprises -> parks (park_id));
diesel::joinable!(lot_events -> lots (lot_id));
diesel::joinable!(inventory -> zones (zone_id));
diesel::joinable!(pickup_request_lots -> pickup_requests (request_id));
diesel::joinable!(pickup_request_lots -> lots (lot_id));
diesel::joinable!(pickup_requests -> parks (park_id));
diesel::joinable!(webhook_deliveries -> webhook_endpoints (endpoint_id));
diesel::joinable!(webhook_deliveries -> messages (message_id));
diesel::joinable!(delivery_attempts -> webhook_deliveries (delivery_id));
diesel::joinable!(manifest_lots -> manifests (manifest_id));
diesel::joinable!(manifest_lots -> lots (lot_id));
diesel::joinable!(lot_containers -> lots (lot_id));
diesel::joinable!(lot_label_texts -> lots (lot_id));
diesel::joinable!(manifest_signatures -> manifests (manifest_id));
diesel::joinable!(manifest_records -> manifests (manifest_id));
diesel::joinable!(manifest_official_numbers -> manifests (manifest_id));
diesel::joinable!(manifest_outbounds -> manifests (manifest_id));
diesel::joinable!(workday_days -> workday_years (year));
diesel::joinable!(collections -> pickup_requests (request_id));
diesel::joinable!(statement_lines -> statements (statement_id));
diesel::joinable!(billing_notes -> statements (statement_id));

diesel::table! {
    patrols (id) {
        id -> Text,
        park_id -> Text,
        enterprise_id -> Nullable<Text>,
        warehouse_id -> Nullable<Text>,
        patrolled_on -> Date,
        people -> Text,
        checklist -> Text,
        note -> Nullable<Text>,
        recorded_by -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    threads (id) {
        id -> Text,
        kind -> Text,
        park_id -> Text,
        enterprise_id -> Nullable<Text>,
        warehouse_id -> Nullable<Text>,
        patrol_id -> Nullable<Text>,
        subject -> Text,
        severity -> Nullable<Text>,
        deadline -> Nullable<Date>,
        status -> Text,
        created_by -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        closed_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    thread_messages (id) {
        id -> Text,
        thread_id -> Text,
        kind -> Text,
        body -> Nullable<Text>,
        author_id -> Text,
        organization_id -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    thread_photos (id) {
        id -> Text,
        thread_id -> Text,
        content_type -> Text,
        byte_size -> BigInt,
        sha256 -> Text,
        bytes -> Binary,
        uploaded_by -> Text,
        organization_id -> Text,
        created_at -> Timestamp,
    }
}

diesel::joinable!(threads -> patrols (patrol_id));

diesel::table! {
    enterprise_profiles (enterprise_id) {
        enterprise_id -> Text,
        park_id -> Text,
        person_in_charge -> Nullable<Text>,
        person_phone -> Nullable<Text>,
        note -> Nullable<Text>,
        version -> Integer,
        updated_at -> Timestamp,
        updated_by -> Text,
    }
}

diesel::table! {
    profile_wastes (enterprise_id, waste_code) {
        enterprise_id -> Text,
        waste_code -> Text,
        grams_per_month -> BigInt,
        handling -> Text,
    }
}

diesel::table! {
    profile_storage_points (enterprise_id, position) {
        enterprise_id -> Text,
        position -> Integer,
        name -> Text,
        location -> Text,
        capacity_grams -> Nullable<BigInt>,
    }
}

diesel::table! {
    lot_profile_flags (lot_id) {
        lot_id -> Text,
        park_id -> Text,
        enterprise_id -> Text,
        waste_code -> Text,
        flagged_at -> Timestamp,
    }
}

diesel::table! {
    five_have_records (enterprise_id, have) {
        enterprise_id -> Text,
        have -> Text,
        met -> Bool,
        note -> Nullable<Text>,
        recorded_at -> Timestamp,
        recorded_by -> Text,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    pickup_waiting,
    organizations,
    stock_movements,
    users,
    sessions,
    refresh_tokens,
    login_failures,
    parks,
    enterprises,
    disposers,
    licences,
    carriers,
    vehicles,
    bureaus,
    warehouses,
    zones,
    waste_categories,
    waste_codes,
    catalog_imports,
    contracts,
    contract_members,
    contract_prices,
    contract_thresholds,
    revisions,
    lots,
    lot_events,
    inventory,
    label_sequences,
    lot_containers,
    lot_label_texts,
    idempotency_keys,
    pickup_requests,
    pickup_request_lots,
    messages,
    notices,
    webhook_endpoints,
    webhook_deliveries,
    delivery_attempts,
    collections,
    manifest_counters,
    manifests,
    manifest_lots,
    manifest_refusals,
    manifest_follows,
    manifest_official_numbers,
    manifest_outbounds,
    manifest_signatures,
    manifest_versions,
    manifest_records,
    manifest_revisions,
    audit_entries,
    statements,
    statement_lines,
    statement_totals,
    billing_notes,
    payments,
    workday_years,
    workday_days,
    patrols,
    threads,
    thread_messages,
    thread_photos,
    enterprise_profiles,
    profile_wastes,
    profile_storage_points,
    lot_profile_flags,
    five_have_records,
);
