//! Permission strings per role (`GET /api/auth/permissions`).

use entity::Role;

const COMMON: &[&str] = &[
    "auth.profile.read",
    "auth.profile.write",
    "auth.sessions.manage",
    "auth.tokens.manage",
    "auth.two_factor.manage",
    "jobtracker.applications.read",
    "jobtracker.applications.write",
];

const CLIENT: &[&str] = &[
    "client.dashboard.read",
    "client.projects.read",
    "client.projects.comment",
    "client.projects.status",
    "client.documents.read",
    "client.documents.write",
    "client.documents.share",
    "client.invoices.read",
    "client.payments.read",
    "client.payments.write",
    "client.notifications.read",
    "client.support.read",
    "client.support.write",
    "tickets.read.own_company",
    "tickets.write.own_company",
];

const PRESTATAIRE: &[&str] = &[
    "prestataire.missions.read",
    "prestataire.missions.apply",
    "prestataire.missions.report",
    "prestataire.time.write",
    "prestataire.calendar.manage",
    "prestataire.tasks.manage",
    "prestataire.rewards.read",
    "prestataire.messages.manage",
    "jobs.steps.read.assigned",
    "jobs.steps.advance.assigned",
    "planning.shifts.read.own",
    "planning.availability.write.own",
];

const REVENDEUR: &[&str] = &[
    "revendeur.dashboard.read",
    "revendeur.clients.read",
    "revendeur.leads.manage",
    "revendeur.opportunities.manage",
    "revendeur.quotes.manage",
    "revendeur.commissions.read",
    "revendeur.materials.read",
];

const SUPERADMIN: &[&str] = &[
    "superadmin.users.read",
    "superadmin.users.write",
    "superadmin.companies.write",
    "superadmin.finance.manage",
    "superadmin.audit.read",
    "superadmin.system.manage",
    "tickets.read.all",
    "tickets.write.all",
    "planning.manage",
    "jobs.steps.advance.all",
];

/// Every permission of a role, sorted.
#[must_use]
pub fn for_role(role: Role) -> Vec<&'static str> {
    let specific = match role {
        Role::Client => CLIENT,
        Role::Prestataire => PRESTATAIRE,
        Role::Revendeur => REVENDEUR,
        Role::Superadmin => SUPERADMIN,
    };
    let mut all: Vec<&'static str> = COMMON.iter().chain(specific).copied().collect();
    all.sort_unstable();
    all.dedup();
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_get_their_own_permissions_only() {
        assert!(for_role(Role::Client).contains(&"client.invoices.read"));
        assert!(!for_role(Role::Client).contains(&"superadmin.users.write"));
        assert!(for_role(Role::Superadmin).contains(&"superadmin.users.write"));
        assert!(!for_role(Role::Prestataire).contains(&"client.invoices.read"));
        for role in Role::all() {
            assert!(for_role(role).contains(&"auth.profile.read"));
        }
    }
}
