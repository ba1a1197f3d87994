//! Accounts created outside the API: the first superadmin at start-up, and the `presta
//! create-admin` / `presta create-user` commands. Such accounts are active and verified.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter,
};
use secrecy::ExposeSecret;
use shared::AppError;
use shared::audit::{self, Actor, AuditEntry};
use shared::config::Config;
use uuid::Uuid;

use entity::company::ClientKind;
use entity::{Role, company, user};

use crate::password::{PasswordHasher, check_policy};
use crate::users;

/// What to create.
#[derive(Clone)]
pub struct NewAccount {
    pub email: String,
    pub password: String,
    pub full_name: String,
    pub role: Role,
    /// For a client: its company (created if no company has that name).
    pub company: Option<String>,
    /// A generated one-time password: nothing but changing it is allowed until then.
    pub must_change_password: bool,
}

/// Create an active, verified account.
///
/// # Errors
/// 422 for a bad e-mail, password or missing company; 409 when the e-mail is taken.
pub async fn create_account(
    db: &DatabaseConnection,
    hasher: &PasswordHasher,
    new: NewAccount,
    actor: &Actor,
) -> Result<user::Model, AppError> {
    let email = users::normalize_email(&new.email);
    if !validator::ValidateEmail::validate_email(&email) {
        return Err(AppError::invalid("email", "must be a valid email address"));
    }
    check_policy(&new.password, &email).map_err(|m| AppError::invalid("password", m))?;
    if new.role == Role::Client && new.company.as_deref().is_none_or(|c| c.trim().is_empty()) {
        return Err(AppError::invalid(
            "company",
            "is required for a client account",
        ));
    }
    if users::find_by_email(db, &email).await?.is_some() {
        return Err(AppError::conflict(
            "An account with this email already exists",
        ));
    }
    let hash = hasher.hash(&new.password).await?;
    let txn = shared::db::begin_write(db).await?;
    let company_id = match new
        .company
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty())
    {
        Some(name) => Some(find_or_create_company(&txn, name).await?),
        None => None,
    };
    let account = users::NewUser {
        email,
        password_hash: hash,
        full_name: new.full_name,
        phone: None,
        role: new.role,
        company_id,
        is_active: true,
        verified: true,
        must_change_password: new.must_change_password,
    }
    .into_active_model()
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        actor,
        AuditEntry::new("create_user", "user")
            .entity_id(account.id)
            .after(&serde_json::json!({
                "email": account.email, "role": account.role, "company_id": account.company_id
            })),
    )
    .await?;
    txn.commit().await?;
    Ok(account)
}

async fn find_or_create_company(db: &impl ConnectionTrait, name: &str) -> Result<Uuid, AppError> {
    if let Some(existing) = company::Entity::find()
        .filter(company::Column::Name.eq(name))
        .one(db)
        .await?
    {
        return Ok(existing.id);
    }
    let created = company::new_client(name, Some(ClientKind::Entreprise))
        .insert(db)
        .await?;
    Ok(created.id)
}

/// The first superadmin, if there is none yet.
pub struct Bootstrapped {
    pub email: String,
    /// Set when the password was generated (to be shown once).
    pub generated_password: Option<String>,
}

/// Create the first superadmin when none exists: from `ADMIN_EMAIL`/`ADMIN_PASSWORD`, or
/// `admin@presta.local` with a generated password the caller shows once.
///
/// # Errors
/// A configured password that breaks the policy, or database errors.
pub async fn ensure_superadmin(
    db: &DatabaseConnection,
    hasher: &PasswordHasher,
    config: &Config,
) -> Result<Option<Bootstrapped>, AppError> {
    let existing = user::Entity::find()
        .filter(user::Column::Role.eq(Role::Superadmin))
        .count(db)
        .await?;
    if existing > 0 {
        return Ok(None);
    }
    let email = config
        .admin_email
        .clone()
        .unwrap_or_else(|| "admin@presta.local".to_owned());
    let (password, generated) = match &config.admin_password {
        Some(p) => (p.expose_secret().to_owned(), None),
        None => {
            let p = shared::crypto::random_token(18);
            (p.clone(), Some(p))
        }
    };
    let created = create_account(
        db,
        hasher,
        NewAccount {
            email: email.clone(),
            password,
            full_name: "Administrator".to_owned(),
            role: Role::Superadmin,
            company: None,
            must_change_password: generated.is_some(),
        },
        &Actor::system(),
    )
    .await;
    match created {
        Ok(_) => Ok(Some(Bootstrapped {
            email,
            generated_password: generated,
        })),
        // Another instance created it at the same moment.
        Err(AppError::Conflict { .. }) => Ok(None),
        Err(err) => Err(err),
    }
}
