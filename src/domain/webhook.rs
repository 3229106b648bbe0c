//! States of webhook endpoints and of the deliveries made to them.

crate::domain::state::states! {
    /// Whether an endpoint is sent messages: `active`, or `disabled`.
    pub enum EndpointStatus {
        Active => "active",
        Disabled => "disabled",
    }
}

crate::domain::state::states! {
    /// Where a delivery is: `pending` (waiting for its next attempt), `delivered`, or `failed`
    /// once its attempts are spent.
    pub enum DeliveryStatus {
        Pending => "pending",
        Delivered => "delivered",
        Failed => "failed",
    }
}
