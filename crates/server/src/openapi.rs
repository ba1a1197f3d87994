//! The aggregated OpenAPI document, and the table of documented routes the fallback uses to
//! tell an unknown route (404) from a known route called with the wrong method (405).

use actix_router::ResourceDef;
use actix_web::{HttpRequest, web};
use shared::AppError;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{OpenApi as OpenApiDoc, PathItem};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Presta API",
        description = "Back office of a service business: client, prestataire (service provider), \
revendeur (reseller) and superadmin portals, construction-site support tickets, shift planning, \
job-step tracking and a job-application tracker.\n\n\
Every JSON response uses the envelope `{success, data, meta?, timestamp}`; errors are \
`{success: false, error: {code, message, details?}, timestamp}`. Lists take \
`?page=&limit=` (limit at most 100) and, where documented, `?sort=&order=`. \
Authenticate with `Authorization: Bearer <token>`.",
        license(name = "Proprietary"),
    ),
    modifiers(&Security),
    tags(
        (name = "system", description = "Health, readiness and metrics"),
        (name = "auth", description = "Accounts, sessions, tokens, two-factor authentication"),
        (name = "tickets", description = "Tickets-Clients BTP: construction-site support tickets with SLA, \
messages, attachments, search, statistics, exports, bulk actions and a live WebSocket feed"),
        (name = "clients", description = "Client companies the tickets are about"),
        (name = "chantiers", description = "Construction sites of client companies"),
        (name = "client", description = "Client portal: the company's projects, documents, invoices, payments, \
balance, dashboard, notifications and support tickets (client accounts only)"),
        (name = "shares", description = "Public links to shared documents (no login; expiring; optional password)"),
        (name = "planning", description = "Planning PRO: shift templates, shifts, assignments, availability, leaves, rules, \
conflict preview with fix suggestions, publishing and auto-assign. Planners are superadmins; collaborators \
(prestataires) read their own shifts, assignments and availability and declare availability"),
    )
)]
pub struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut OpenApiDoc) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT or presta_pat_… personal access token")
                    .description(Some(
                        "Access token from `POST /api/auth/login` (15 minutes), or a personal \
                         access token for scripts.",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "metrics_token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "`METRICS_TOKEN`, when the server is configured with one.",
                    ))
                    .build(),
            ),
        );
    }
}

/// The base document (info, security schemes, shared components) before routes are added.
#[must_use]
pub fn base() -> OpenApiDoc {
    let mut doc = ApiDoc::openapi();
    let shared_components = shared::openapi::components().build();
    let components = doc.components.get_or_insert_with(Default::default);
    components.schemas.extend(shared_components.schemas);
    components.responses.extend(shared_components.responses);
    doc
}

/// Documented `(pattern, methods)` pairs, for the fallback handler.
pub struct RouteTable {
    routes: Vec<(ResourceDef, Vec<String>)>,
}

/// How many literal segments `def` has: `/api/tickets-client/bulk` is more specific than
/// `/api/tickets-client/{id}`, as in the document, where each path has its own operations.
fn literal_segments(def: &ResourceDef) -> usize {
    def.pattern()
        .unwrap_or_default()
        .split('/')
        .filter(|segment| !segment.is_empty() && !segment.contains('{'))
        .count()
}

fn methods(item: &PathItem) -> Vec<String> {
    let mut methods = Vec::new();
    for (name, op) in [
        ("GET", &item.get),
        ("POST", &item.post),
        ("PUT", &item.put),
        ("PATCH", &item.patch),
        ("DELETE", &item.delete),
        ("HEAD", &item.head),
        ("OPTIONS", &item.options),
    ] {
        if op.is_some() {
            methods.push(name.to_owned());
        }
    }
    methods
}

impl RouteTable {
    #[must_use]
    pub fn from_openapi(doc: &OpenApiDoc) -> Self {
        let mut routes: Vec<(ResourceDef, Vec<String>)> = doc
            .paths
            .paths
            .iter()
            .map(|(path, item)| (ResourceDef::new(path.as_str()), methods(item)))
            .collect();
        // Served outside the document.
        routes.push((
            ResourceDef::new("/api-docs/openapi.json"),
            vec!["GET".to_owned()],
        ));
        routes.push((ResourceDef::new("/docs"), vec!["GET".to_owned()]));
        routes.push((ResourceDef::new("/docs/{tail}*"), vec!["GET".to_owned()]));
        Self { routes }
    }

    /// Methods allowed on `path`, if any documented route matches it.
    #[must_use]
    pub fn allowed(&self, path: &str) -> Option<Vec<String>> {
        let matching: Vec<_> = self
            .routes
            .iter()
            .filter(|(def, _)| def.is_match(path))
            .collect();
        let most_literal = matching
            .iter()
            .map(|(def, _)| literal_segments(def))
            .max()?;
        let mut allowed: Vec<String> = matching
            .into_iter()
            .filter(|(def, _)| literal_segments(def) == most_literal)
            .flat_map(|(_, methods)| methods.iter().cloned())
            .collect();
        allowed.sort();
        allowed.dedup();
        (!allowed.is_empty()).then_some(allowed)
    }
}

/// Everything no route matched: 405 with `Allow` if the path exists, else 404.
///
/// # Errors
/// Always: this is the answer for requests no route took.
pub async fn fallback(
    req: HttpRequest,
    table: web::Data<RouteTable>,
) -> Result<actix_web::HttpResponse, AppError> {
    Err(match table.allowed(req.path()) {
        Some(allowed) => AppError::MethodNotAllowed { allowed },
        None => AppError::not_found(format!("No route for {} {}", req.method(), req.path())),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_paths_answer_405_unknown_404() {
        let mut doc = base();
        doc.paths.paths.insert(
            "/api/things/{id}".to_owned(),
            PathItem::new(
                utoipa::openapi::HttpMethod::Get,
                utoipa::openapi::path::Operation::new(),
            ),
        );
        let table = RouteTable::from_openapi(&doc);
        assert_eq!(
            table.allowed("/api/things/42"),
            Some(vec!["GET".to_owned()])
        );
        assert_eq!(table.allowed("/api/things"), None);
        let mut doc = doc;
        doc.paths.paths.insert(
            "/api/things/export".to_owned(),
            PathItem::new(
                utoipa::openapi::HttpMethod::Post,
                utoipa::openapi::path::Operation::new(),
            ),
        );
        let table = RouteTable::from_openapi(&doc);
        assert_eq!(
            table.allowed("/api/things/export"),
            Some(vec!["POST".to_owned()])
        );
        assert_eq!(
            table.allowed("/docs/index.html"),
            Some(vec!["GET".to_owned()])
        );
    }
}
