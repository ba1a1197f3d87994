//! Guess counting for passwords and second factors, race-free.
//!
//! An attempt is *reserved* — counted with an atomic increment — before the secret is checked,
//! and the count is cleared only when the check succeeds. Parallel requests therefore each count
//! (a burst cannot slip through as one failure), and once the limit is reached every further
//! attempt is refused without looking at the secret.
//!
//! - Passwords (login, change-password, disable-2fa, token creation): 10 consecutive failures
//!   lock the account for 1 minute, one more minute per further attempt, at most 15; the owner
//!   is e-mailed once per lock.
//! - Second factors (TOTP or recovery code, anywhere): 10 failures within 24 hours lock 2FA — and
//!   so sign-in — for 24 hours; the owner is e-mailed.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, QueryFilter, Statement,
};
use shared::AppError;
use shared::audit::{self, AuditEntry};
use shared::mailer::{self, Email};
use uuid::Uuid;

use entity::user;

use crate::users::ClientInfo;

pub const LOCK_AFTER_FAILURES: i32 = 10;
pub const MAX_LOCK: Duration = Duration::minutes(15);
pub const TOTP_MAX_FAILURES: i32 = 10;
pub const TOTP_WINDOW: Duration = Duration::hours(24);
pub const TOTP_LOCK: Duration = Duration::hours(24);

/// Wait after `failures` consecutive failures (from the tenth).
#[must_use]
pub fn lock_for(failures: i32) -> Duration {
    let extra = i64::from((failures - LOCK_AFTER_FAILURES + 1).max(1));
    Duration::minutes(extra).min(MAX_LOCK)
}

fn ph(db: &impl ConnectionTrait, n: usize) -> String {
    match db.get_database_backend() {
        sea_orm::DbBackend::Postgres => format!("${n}"),
        _ => "?".to_owned(),
    }
}

/// `UPDATE users SET <column> = <column> + 1 ... RETURNING *`: the row after the increment.
async fn increment(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    column: &str,
) -> Result<user::Model, AppError> {
    let backend = db.get_database_backend();
    let sql = format!(
        "UPDATE users SET {column} = {column} + 1, updated_at = {} WHERE id = {} RETURNING *",
        ph(db, 1),
        ph(db, 2)
    );
    user::Entity::find()
        .from_raw_sql(Statement::from_sql_and_values(
            backend,
            sql,
            [Utc::now().into(), user_id.into()],
        ))
        .one(db)
        .await?
        .ok_or_else(|| AppError::unauthenticated("The account is not available"))
}

/// Is the account locked right now (password guesses)?
#[must_use]
pub fn password_locked(account: &user::Model, now: DateTime<Utc>) -> bool {
    account.locked_until.is_some_and(|until| until > now)
}

/// Count a password attempt before checking it. `Ok(false)`: the account is locked; refuse
/// without checking.
///
/// # Errors
/// Database errors.
pub async fn reserve_password(
    db: &DatabaseConnection,
    user_id: Uuid,
    client: &ClientInfo,
) -> Result<bool, AppError> {
    let now = Utc::now();
    let txn = shared::db::begin_write(db).await?;
    let account = increment(&txn, user_id, "failed_login_count").await?;
    let was_locked = password_locked(&account, now);
    if account.failed_login_count >= LOCK_AFTER_FAILURES {
        let notify = !account.lock_notified;
        let mut active: user::ActiveModel = account.clone().into();
        active.locked_until = Set(Some(now + lock_for(account.failed_login_count)));
        active.lock_notified = Set(true);
        active.update(&txn).await?;
        if notify {
            mailer::queue(
                &txn,
                Email {
                    to: account.email.clone(),
                    subject: "Your Presta account is temporarily locked".to_owned(),
                    body: format!(
                        "Hello {},\n\nAfter {LOCK_AFTER_FAILURES} failed attempts with your \
                         password, your account is locked for a while (up to 15 minutes, longer \
                         after each further attempt). If this was not you, someone is guessing \
                         your password: once you can sign in, change it and turn on two-factor \
                         authentication.\n",
                        account.full_name
                    ),
                    template: "account_locked",
                    user_id: Some(account.id),
                },
            )
            .await?;
            audit::record(
                &txn,
                &client.actor(Some(account.id)),
                AuditEntry::new("account_locked", "user").entity_id(account.id),
            )
            .await?;
        }
    }
    txn.commit().await?;
    Ok(!was_locked)
}

/// The password was right: the account starts from zero again.
///
/// # Errors
/// Database errors.
pub async fn password_succeeded(db: &impl ConnectionTrait, user_id: Uuid) -> Result<(), AppError> {
    user::Entity::update_many()
        .col_expr(user::Column::FailedLoginCount, 0.into())
        .col_expr(
            user::Column::LockedUntil,
            Option::<DateTime<Utc>>::None.into(),
        )
        .col_expr(user::Column::LockNotified, false.into())
        .filter(user::Column::Id.eq(user_id))
        .exec(db)
        .await?;
    Ok(())
}

/// Is 2FA locked for this account right now?
#[must_use]
pub fn totp_locked(account: &user::Model, now: DateTime<Utc>) -> bool {
    account.totp_locked_until.is_some_and(|until| until > now)
}

/// Count a second-factor attempt before checking it. `Ok(false)`: 2FA is locked; refuse
/// without checking.
///
/// # Errors
/// Database errors.
pub async fn reserve_totp(
    db: &DatabaseConnection,
    user_id: Uuid,
    client: &ClientInfo,
) -> Result<bool, AppError> {
    let now = Utc::now();
    let txn = shared::db::begin_write(db).await?;
    let account = increment(&txn, user_id, "totp_failed_count").await?;
    if totp_locked(&account, now) {
        txn.commit().await?;
        return Ok(false);
    }
    let mut active: user::ActiveModel = account.clone().into();
    let window_over = account
        .totp_failed_since
        .is_none_or(|since| now - since > TOTP_WINDOW);
    let count = if window_over {
        active.totp_failed_count = Set(1);
        active.totp_failed_since = Set(Some(now));
        1
    } else {
        account.totp_failed_count
    };
    let allowed = count <= TOTP_MAX_FAILURES;
    if count >= TOTP_MAX_FAILURES {
        active.totp_locked_until = Set(Some(now + TOTP_LOCK));
    }
    active.update(&txn).await?;
    if count == TOTP_MAX_FAILURES {
        audit::record(
            &txn,
            &client.actor(Some(account.id)),
            AuditEntry::new("two_factor_locked", "user").entity_id(account.id),
        )
        .await?;
        mailer::queue(
            &txn,
            Email {
                to: account.email.clone(),
                subject: "Two-factor sign-in locked on your Presta account".to_owned(),
                body: format!(
                    "Hello {},\n\nTen wrong two-factor codes were entered for your account within \
                     24 hours, so two-factor sign-in is locked until {} UTC.\n\nIf this was not \
                     you, someone knows your password: change it as soon as you can sign in.\n",
                    account.full_name,
                    (now + TOTP_LOCK).format("%Y-%m-%d %H:%M")
                ),
                template: "two_factor_locked",
                user_id: Some(account.id),
            },
        )
        .await?;
    }
    txn.commit().await?;
    // The tenth attempt is still checked; the lock then holds whatever its outcome, unless it
    // succeeds (which clears it).
    Ok(allowed)
}

/// The second factor was right: the count starts from zero again.
///
/// # Errors
/// Database errors.
pub async fn totp_succeeded(db: &impl ConnectionTrait, user_id: Uuid) -> Result<(), AppError> {
    user::Entity::update_many()
        .col_expr(user::Column::TotpFailedCount, 0.into())
        .col_expr(
            user::Column::TotpFailedSince,
            Option::<DateTime<Utc>>::None.into(),
        )
        .col_expr(
            user::Column::TotpLockedUntil,
            Option::<DateTime<Utc>>::None.into(),
        )
        .filter(user::Column::Id.eq(user_id))
        .exec(db)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lock_grows_a_minute_per_failure_up_to_a_quarter_hour() {
        assert_eq!(lock_for(10), Duration::minutes(1));
        assert_eq!(lock_for(11), Duration::minutes(2));
        assert_eq!(lock_for(23), Duration::minutes(14));
        assert_eq!(lock_for(24), Duration::minutes(15));
        assert_eq!(lock_for(100), Duration::minutes(15));
    }
}
