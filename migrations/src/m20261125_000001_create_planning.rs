//! Planning PRO (seed 004, issue 6): site settings (time zone, capacity), skills, teams, job
//! roles, collaborators (prestataire users with skills and contract caps), availability,
//! leaves, public holidays, shift templates, shifts, assignments and rule settings. Changes are
//! audited in `audit_log`; auto-assign runs on the job queue.

use crate::helpers::{fk, iden, index};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    boolean, date, double_null, integer, integer_null, json_binary, pk_uuid, string, string_len,
    text_null, timestamp_with_time_zone, timestamp_with_time_zone_null, uuid, uuid_null,
};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Chantiers {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum PlanningSites {
    Table,
    ChantierId,
    Timezone,
    CapacityHard,
    CapacitySoft,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum PlanningSkills {
    Table,
    Id,
    Name,
    CreatedAt,
}

#[derive(DeriveIden)]
enum PlanningTeams {
    Table,
    Id,
    Name,
    SiteId,
    CapacityHard,
    CapacitySoft,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum PlanningJobRoles {
    Table,
    Id,
    Name,
    RequiredSkills,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum PlanningCollaborators {
    Table,
    UserId,
    TeamId,
    Skills,
    MaxHoursDay,
    MaxHoursWeek,
    MaxHoursMonth,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum PlanningAvailability {
    Table,
    Id,
    UserId,
    StartsAt,
    EndsAt,
    Note,
    CreatedAt,
}

#[derive(DeriveIden)]
enum PlanningLeaves {
    Table,
    Id,
    UserId,
    StartsAt,
    EndsAt,
    Kind,
    Reason,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum PlanningHolidays {
    Table,
    Id,
    SiteId,
    Date,
    Name,
    CreatedAt,
}

#[derive(DeriveIden)]
enum PlanningShiftTemplates {
    Table,
    Id,
    SiteId,
    JobRoleId,
    TeamId,
    Name,
    StartTime,
    EndTime,
    Days,
    BreakMinutes,
    Headcount,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum PlanningShifts {
    Table,
    Id,
    SiteId,
    JobRoleId,
    TeamId,
    TemplateId,
    StartsAt,
    EndsAt,
    LocalDate,
    StartTime,
    EndTime,
    BreakMinutes,
    Headcount,
    Status,
    Notes,
    PublishedAt,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum PlanningAssignments {
    Table,
    Id,
    ShiftId,
    UserId,
    Status,
    Source,
    Score,
    Note,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum PlanningRules {
    Table,
    Code,
    Enabled,
    Severity,
    Params,
    UpdatedBy,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    #[allow(clippy::too_many_lines)]
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(PlanningSites::Table)
                    .col(uuid(PlanningSites::ChantierId).primary_key())
                    .col(string_len(PlanningSites::Timezone, 64))
                    .col(integer_null(PlanningSites::CapacityHard))
                    .col(integer_null(PlanningSites::CapacitySoft))
                    .col(timestamp_with_time_zone(PlanningSites::UpdatedAt))
                    .foreign_key(&mut fk(
                        "fk-planning_sites-chantier_id",
                        (PlanningSites::Table, PlanningSites::ChantierId),
                        (Chantiers::Table, Chantiers::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(PlanningSkills::Table)
                    .col(pk_uuid(PlanningSkills::Id))
                    .col(string(PlanningSkills::Name))
                    .col(timestamp_with_time_zone(PlanningSkills::CreatedAt))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "uq-planning_skills-name",
            PlanningSkills::Table,
            vec![iden(PlanningSkills::Name)],
            true,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(PlanningTeams::Table)
                    .col(pk_uuid(PlanningTeams::Id))
                    .col(string(PlanningTeams::Name))
                    .col(uuid_null(PlanningTeams::SiteId))
                    .col(integer_null(PlanningTeams::CapacityHard))
                    .col(integer_null(PlanningTeams::CapacitySoft))
                    .col(timestamp_with_time_zone(PlanningTeams::CreatedAt))
                    .col(timestamp_with_time_zone(PlanningTeams::UpdatedAt))
                    .foreign_key(&mut fk(
                        "fk-planning_teams-site_id",
                        (PlanningTeams::Table, PlanningTeams::SiteId),
                        (Chantiers::Table, Chantiers::Id),
                        ForeignKeyAction::SetNull,
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "uq-planning_teams-name",
            PlanningTeams::Table,
            vec![iden(PlanningTeams::Name)],
            true,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(PlanningJobRoles::Table)
                    .col(pk_uuid(PlanningJobRoles::Id))
                    .col(string(PlanningJobRoles::Name))
                    .col(json_binary(PlanningJobRoles::RequiredSkills))
                    .col(timestamp_with_time_zone(PlanningJobRoles::CreatedAt))
                    .col(timestamp_with_time_zone(PlanningJobRoles::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "uq-planning_job_roles-name",
            PlanningJobRoles::Table,
            vec![iden(PlanningJobRoles::Name)],
            true,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(PlanningCollaborators::Table)
                    .col(uuid(PlanningCollaborators::UserId).primary_key())
                    .col(uuid_null(PlanningCollaborators::TeamId))
                    .col(json_binary(PlanningCollaborators::Skills))
                    .col(double_null(PlanningCollaborators::MaxHoursDay))
                    .col(double_null(PlanningCollaborators::MaxHoursWeek))
                    .col(double_null(PlanningCollaborators::MaxHoursMonth))
                    .col(timestamp_with_time_zone(PlanningCollaborators::UpdatedAt))
                    .foreign_key(&mut fk(
                        "fk-planning_collaborators-user_id",
                        (PlanningCollaborators::Table, PlanningCollaborators::UserId),
                        (Users::Table, Users::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "fk-planning_collaborators-team_id",
                        (PlanningCollaborators::Table, PlanningCollaborators::TeamId),
                        (PlanningTeams::Table, PlanningTeams::Id),
                        ForeignKeyAction::SetNull,
                    ))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(PlanningAvailability::Table)
                    .col(pk_uuid(PlanningAvailability::Id))
                    .col(uuid(PlanningAvailability::UserId))
                    .col(timestamp_with_time_zone(PlanningAvailability::StartsAt))
                    .col(timestamp_with_time_zone(PlanningAvailability::EndsAt))
                    .col(text_null(PlanningAvailability::Note))
                    .col(timestamp_with_time_zone(PlanningAvailability::CreatedAt))
                    .foreign_key(&mut fk(
                        "fk-planning_availability-user_id",
                        (PlanningAvailability::Table, PlanningAvailability::UserId),
                        (Users::Table, Users::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx-planning_availability-user_id-starts_at",
            PlanningAvailability::Table,
            vec![
                iden(PlanningAvailability::UserId),
                iden(PlanningAvailability::StartsAt),
            ],
            false,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(PlanningLeaves::Table)
                    .col(pk_uuid(PlanningLeaves::Id))
                    .col(uuid(PlanningLeaves::UserId))
                    .col(timestamp_with_time_zone(PlanningLeaves::StartsAt))
                    .col(timestamp_with_time_zone(PlanningLeaves::EndsAt))
                    .col(string_len(PlanningLeaves::Kind, 16))
                    .col(text_null(PlanningLeaves::Reason))
                    .col(uuid_null(PlanningLeaves::CreatedBy))
                    .col(timestamp_with_time_zone(PlanningLeaves::CreatedAt))
                    .foreign_key(&mut fk(
                        "fk-planning_leaves-user_id",
                        (PlanningLeaves::Table, PlanningLeaves::UserId),
                        (Users::Table, Users::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx-planning_leaves-user_id-starts_at",
            PlanningLeaves::Table,
            vec![iden(PlanningLeaves::UserId), iden(PlanningLeaves::StartsAt)],
            false,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(PlanningHolidays::Table)
                    .col(pk_uuid(PlanningHolidays::Id))
                    .col(uuid_null(PlanningHolidays::SiteId))
                    .col(date(PlanningHolidays::Date))
                    .col(string(PlanningHolidays::Name))
                    .col(timestamp_with_time_zone(PlanningHolidays::CreatedAt))
                    .foreign_key(&mut fk(
                        "fk-planning_holidays-site_id",
                        (PlanningHolidays::Table, PlanningHolidays::SiteId),
                        (Chantiers::Table, Chantiers::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx-planning_holidays-date",
            PlanningHolidays::Table,
            vec![iden(PlanningHolidays::Date)],
            false,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(PlanningShiftTemplates::Table)
                    .col(pk_uuid(PlanningShiftTemplates::Id))
                    .col(uuid(PlanningShiftTemplates::SiteId))
                    .col(uuid(PlanningShiftTemplates::JobRoleId))
                    .col(uuid_null(PlanningShiftTemplates::TeamId))
                    .col(string(PlanningShiftTemplates::Name))
                    .col(string_len(PlanningShiftTemplates::StartTime, 5))
                    .col(string_len(PlanningShiftTemplates::EndTime, 5))
                    .col(json_binary(PlanningShiftTemplates::Days))
                    .col(integer(PlanningShiftTemplates::BreakMinutes))
                    .col(integer(PlanningShiftTemplates::Headcount))
                    .col(timestamp_with_time_zone(PlanningShiftTemplates::CreatedAt))
                    .col(timestamp_with_time_zone(PlanningShiftTemplates::UpdatedAt))
                    .foreign_key(&mut fk(
                        "fk-planning_shift_templates-site_id",
                        (
                            PlanningShiftTemplates::Table,
                            PlanningShiftTemplates::SiteId,
                        ),
                        (Chantiers::Table, Chantiers::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "fk-planning_shift_templates-job_role_id",
                        (
                            PlanningShiftTemplates::Table,
                            PlanningShiftTemplates::JobRoleId,
                        ),
                        (PlanningJobRoles::Table, PlanningJobRoles::Id),
                        ForeignKeyAction::Restrict,
                    ))
                    .foreign_key(&mut fk(
                        "fk-planning_shift_templates-team_id",
                        (
                            PlanningShiftTemplates::Table,
                            PlanningShiftTemplates::TeamId,
                        ),
                        (PlanningTeams::Table, PlanningTeams::Id),
                        ForeignKeyAction::SetNull,
                    ))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(PlanningShifts::Table)
                    .col(pk_uuid(PlanningShifts::Id))
                    .col(uuid(PlanningShifts::SiteId))
                    .col(uuid(PlanningShifts::JobRoleId))
                    .col(uuid_null(PlanningShifts::TeamId))
                    .col(uuid_null(PlanningShifts::TemplateId))
                    .col(timestamp_with_time_zone(PlanningShifts::StartsAt))
                    .col(timestamp_with_time_zone(PlanningShifts::EndsAt))
                    .col(date(PlanningShifts::LocalDate))
                    .col(string_len(PlanningShifts::StartTime, 5))
                    .col(string_len(PlanningShifts::EndTime, 5))
                    .col(integer(PlanningShifts::BreakMinutes))
                    .col(integer(PlanningShifts::Headcount))
                    .col(string_len(PlanningShifts::Status, 16))
                    .col(text_null(PlanningShifts::Notes))
                    .col(timestamp_with_time_zone_null(PlanningShifts::PublishedAt))
                    .col(uuid_null(PlanningShifts::CreatedBy))
                    .col(timestamp_with_time_zone(PlanningShifts::CreatedAt))
                    .col(timestamp_with_time_zone(PlanningShifts::UpdatedAt))
                    .foreign_key(&mut fk(
                        "fk-planning_shifts-site_id",
                        (PlanningShifts::Table, PlanningShifts::SiteId),
                        (Chantiers::Table, Chantiers::Id),
                        ForeignKeyAction::Restrict,
                    ))
                    .foreign_key(&mut fk(
                        "fk-planning_shifts-job_role_id",
                        (PlanningShifts::Table, PlanningShifts::JobRoleId),
                        (PlanningJobRoles::Table, PlanningJobRoles::Id),
                        ForeignKeyAction::Restrict,
                    ))
                    .foreign_key(&mut fk(
                        "fk-planning_shifts-team_id",
                        (PlanningShifts::Table, PlanningShifts::TeamId),
                        (PlanningTeams::Table, PlanningTeams::Id),
                        ForeignKeyAction::SetNull,
                    ))
                    .foreign_key(&mut fk(
                        "fk-planning_shifts-template_id",
                        (PlanningShifts::Table, PlanningShifts::TemplateId),
                        (PlanningShiftTemplates::Table, PlanningShiftTemplates::Id),
                        ForeignKeyAction::SetNull,
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx-planning_shifts-site_id-starts_at",
            PlanningShifts::Table,
            vec![iden(PlanningShifts::SiteId), iden(PlanningShifts::StartsAt)],
            false,
        )
        .await?;
        index(
            manager,
            "idx-planning_shifts-starts_at",
            PlanningShifts::Table,
            vec![iden(PlanningShifts::StartsAt)],
            false,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(PlanningAssignments::Table)
                    .col(pk_uuid(PlanningAssignments::Id))
                    .col(uuid(PlanningAssignments::ShiftId))
                    .col(uuid(PlanningAssignments::UserId))
                    .col(string_len(PlanningAssignments::Status, 16))
                    .col(string_len(PlanningAssignments::Source, 8))
                    .col(double_null(PlanningAssignments::Score))
                    .col(text_null(PlanningAssignments::Note))
                    .col(uuid_null(PlanningAssignments::CreatedBy))
                    .col(timestamp_with_time_zone(PlanningAssignments::CreatedAt))
                    .col(timestamp_with_time_zone(PlanningAssignments::UpdatedAt))
                    .foreign_key(&mut fk(
                        "fk-planning_assignments-shift_id",
                        (PlanningAssignments::Table, PlanningAssignments::ShiftId),
                        (PlanningShifts::Table, PlanningShifts::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "fk-planning_assignments-user_id",
                        (PlanningAssignments::Table, PlanningAssignments::UserId),
                        (Users::Table, Users::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "uq-planning_assignments-shift_id-user_id",
            PlanningAssignments::Table,
            vec![
                iden(PlanningAssignments::ShiftId),
                iden(PlanningAssignments::UserId),
            ],
            true,
        )
        .await?;
        index(
            manager,
            "idx-planning_assignments-user_id",
            PlanningAssignments::Table,
            vec![iden(PlanningAssignments::UserId)],
            false,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(PlanningRules::Table)
                    .col(string_len(PlanningRules::Code, 32).primary_key())
                    .col(boolean(PlanningRules::Enabled))
                    .col(string_len(PlanningRules::Severity, 8))
                    .col(json_binary(PlanningRules::Params))
                    .col(uuid_null(PlanningRules::UpdatedBy))
                    .col(timestamp_with_time_zone(PlanningRules::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            iden(PlanningRules::Table),
            iden(PlanningAssignments::Table),
            iden(PlanningShifts::Table),
            iden(PlanningShiftTemplates::Table),
            iden(PlanningHolidays::Table),
            iden(PlanningLeaves::Table),
            iden(PlanningAvailability::Table),
            iden(PlanningCollaborators::Table),
            iden(PlanningJobRoles::Table),
            iden(PlanningTeams::Table),
            iden(PlanningSkills::Table),
            iden(PlanningSites::Table),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
