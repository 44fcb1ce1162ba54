//! Help Desk: inquiries, and the simulated operator who approves project deletion requests.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::access::{OrgRole, Permission};
use super::projects::{load_project, ProjectContents};
use super::{validate, Actor, Console, Error, Principal, Result};
use crate::store::Table;

pub const PROJECT_DELETION: &str = "Project deletion";

/// A detailed type of inquiry: a category and its sub-type, under one inquiry type. An inquiry
/// stores the sub-type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DetailedType {
    pub kind: InquiryKind,
    pub category: &'static str,
    pub sub_type: &'static str,
}

impl DetailedType {
    /// "Service › Project deletion", as the form offers it.
    pub fn label(&self) -> String {
        format!("{} › {}", self.category, self.sub_type)
    }
}

const fn detailed(kind: InquiryKind, category: &'static str, sub_type: &'static str) -> DetailedType {
    DetailedType {
        kind,
        category,
        sub_type,
    }
}

/// The detailed types every face offers. Service › Project deletion is the project guide's;
/// the others are the replica's (the guides list no more).
pub const DETAILED_TYPES: &[DetailedType] = &[
    detailed(InquiryKind::General, "Customer support", "Account"),
    detailed(InquiryKind::General, "Customer support", "Billing"),
    detailed(InquiryKind::General, "Customer support", "Other"),
    detailed(InquiryKind::Technical, "Service", PROJECT_DELETION),
    detailed(InquiryKind::Technical, "Service", "Usage"),
    detailed(InquiryKind::Technical, "Service", "Error"),
];

/// The detailed types of one inquiry type.
pub fn detailed_types(kind: InquiryKind) -> impl Iterator<Item = &'static DetailedType> {
    DETAILED_TYPES.iter().filter(move |d| d.kind == kind)
}

/// The detailed type `sub_type` names under `kind`, or why there is none.
pub fn detailed_type(kind: InquiryKind, sub_type: &str) -> Result<&'static DetailedType> {
    detailed_types(kind)
        .find(|d| d.sub_type == sub_type)
        .ok_or_else(|| {
            let choices: Vec<String> = detailed_types(kind).map(|d| d.label()).collect();
            Error::Invalid(format!(
                "detailed type \"{}\" is not one of the {} inquiry's: {}",
                crate::text::visible(sub_type),
                kind.label(),
                choices.join(", ")
            ))
        })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum InquiryKind {
    General,
    Technical,
}

impl InquiryKind {
    pub fn parse(s: &str) -> Option<InquiryKind> {
        match s.to_ascii_lowercase().as_str() {
            "general" => Some(InquiryKind::General),
            "technical" => Some(InquiryKind::Technical),
            _ => None,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            InquiryKind::General => "General",
            InquiryKind::Technical => "Technical",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum InquiryState {
    Pending,
    Approved,
    Rejected,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    pub name: String,
    pub size: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inquiry {
    pub id: String,
    pub kind: InquiryKind,
    pub detail_type: String,
    pub project_name: Option<String>,
    /// The project a deletion request is about, fixed when it is submitted.
    pub project_id: Option<String>,
    pub title: String,
    pub details: String,
    pub private: bool,
    pub attachment: Option<Attachment>,
    pub submitted_by: String,
    pub submitted_at: DateTime<Utc>,
    pub state: InquiryState,
    pub resolved_at: Option<DateTime<Utc>>,
}

/// What a user fills in on the Help Desk form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InquiryDraft {
    pub kind: InquiryKind,
    pub detail_type: String,
    pub project: Option<String>,
    pub title: String,
    pub details: String,
    pub private: bool,
    /// The file's name and size, read by the face that has the file.
    pub attachment: Option<Attachment>,
}

impl InquiryDraft {
    /// The form "Request project deletion" opens: Technical / Project deletion / the project.
    pub fn project_deletion(project_name: &str) -> InquiryDraft {
        InquiryDraft {
            kind: InquiryKind::Technical,
            detail_type: PROJECT_DELETION.into(),
            project: Some(project_name.into()),
            title: format!("Delete project {project_name}"),
            details: String::new(),
            private: false,
            attachment: None,
        }
    }
}

impl Attachment {
    /// Reads a file's name and size, as the console stores an attachment (the face that has
    /// the file calls this; the model receives only the name and size).
    pub fn from_file(path: &std::path::Path) -> Result<Attachment> {
        use std::os::unix::ffi::OsStrExt;
        let length = path.as_os_str().as_bytes().len();
        if length > validate::PATH_INPUT_MAX {
            return Err(Error::Invalid(format!(
                "the attachment's path is {length} bytes long; the limit is {}",
                validate::PATH_INPUT_MAX
            )));
        }
        let meta = std::fs::metadata(path)
            .map_err(|e| Error::Invalid(format!("cannot attach {}: {e}", path.display())))?;
        if !meta.is_file() {
            return Err(Error::Invalid(format!(
                "cannot attach {}: not a file",
                path.display()
            )));
        }
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        Ok(Attachment {
            name,
            size: meta.len(),
        })
    }
}

/// Only the Help Desk operator reads the queue and resolves inquiries.
fn require_operator(actor: &Actor) -> Result<()> {
    if actor.principal == Principal::Operator {
        Ok(())
    } else {
        Err(Error::Denied(format!(
            "only the Help Desk operator ({}) can do this; sign in as the operator",
            super::operator::OPERATOR_EMAIL
        )))
    }
}

impl Console {
    pub fn submit_inquiry(&self, actor: &Actor, draft: &InquiryDraft) -> Result<Inquiry> {
        let is_deletion = draft.detail_type == PROJECT_DELETION;
        self.bound_inputs(
            actor,
            if is_deletion {
                "project.request_deletion"
            } else {
                "inquiry.submit"
            },
            &[
                // A choice from a short list: one of its names is far shorter than an ID.
                ("detailed type", &draft.detail_type, validate::ID_INPUT_MAX),
                (
                    "project",
                    draft.project.as_deref().unwrap_or_default(),
                    validate::ID_INPUT_MAX,
                ),
                ("title", &draft.title, validate::TEXT_INPUT_MAX),
                ("inquiry details", &draft.details, validate::TEXT_INPUT_MAX),
                (
                    "attachment name",
                    draft
                        .attachment
                        .as_ref()
                        .map(|a| a.name.as_str())
                        .unwrap_or_default(),
                    validate::TEXT_INPUT_MAX,
                ),
            ],
        )?;
        let project = match &draft.project {
            Some(p) => Some(self.find_project(p)?),
            None if is_deletion => {
                return Err(Error::Invalid(
                    "a project deletion request needs the project's name".into(),
                ))
            }
            None => None,
        };
        let id = self.new_id();
        let now = self.now();
        let action = if is_deletion {
            "project.request_deletion"
        } else {
            "inquiry.submit"
        };
        let target = project
            .as_ref()
            .map(|p| p.name.clone())
            .unwrap_or_else(|| draft.title.clone());
        // One open deletion request per project: read under the write lock, with the write.
        let open_request = || match (&project, is_deletion) {
            (Some(p), true) => self.open_deletion_request(&p.id),
            _ => Ok(None),
        };
        self.change_with(actor, action, &target, open_request, |tx, open| {
            let Principal::User(uid) = &actor.principal else {
                return Err(Error::Denied("only users can contact the Help Desk".into()).into());
            };
            if is_deletion {
                let project = project.as_ref().expect("checked above");
                self.require(
                    tx,
                    actor,
                    Some(&project.id),
                    Permission::RequestProjectDeletion,
                    "requesting project deletion",
                )?;
                if draft.kind != InquiryKind::Technical {
                    return Err(Error::Invalid("project deletion is a Technical inquiry".into()).into());
                }
                load_project(tx, &project.id)?;
            }
            detailed_type(draft.kind, &draft.detail_type)?;
            validate::text("title", &draft.title, validate::INQUIRY_TITLE_MAX, true)?;
            if let Some(attachment) = &draft.attachment {
                validate::text(
                    "attachment name",
                    &attachment.name,
                    validate::ATTACHMENT_NAME_MAX,
                    true,
                )?;
            }
            validate::text(
                "inquiry details",
                &draft.details,
                validate::INQUIRY_DETAILS_MAX,
                false,
            )?;
            if let (Some(open), Some(project)) = (open, &project) {
                return Err(Error::Conflict(format!(
                    "a deletion request for project {} is already open (inquiry ID {open}, Pending); the Help Desk answers it before another can be made",
                    project.name
                ))
                .into());
            }
            let inquiry = Inquiry {
                id: id.clone(),
                kind: draft.kind,
                detail_type: draft.detail_type.clone(),
                project_name: project.as_ref().map(|p| p.name.clone()),
                project_id: project.as_ref().map(|p| p.id.clone()),
                title: draft.title.clone(),
                details: draft.details.clone(),
                private: draft.private,
                attachment: draft.attachment.clone(),
                submitted_by: uid.clone(),
                submitted_at: now,
                state: InquiryState::Pending,
                resolved_at: None,
            };
            tx.put(Table::Inquiries, &id, &inquiry)?;
            Ok(inquiry)
        })
    }

    /// Request project deletion: a Technical / Project deletion inquiry for the Help Desk.
    pub fn request_project_deletion(
        &self,
        actor: &Actor,
        project: &str,
        title: &str,
        details: &str,
        private: bool,
        attachment: Option<Attachment>,
    ) -> Result<Inquiry> {
        let mut draft = InquiryDraft::project_deletion(&self.find_project(project)?.name);
        draft.title = title.into();
        draft.details = details.into();
        draft.private = private;
        draft.attachment = attachment;
        self.submit_inquiry(actor, &draft)
    }

    fn all_inquiries(&self) -> Result<Vec<Inquiry>> {
        let mut all: Vec<Inquiry> = self
            .store
            .scan::<Inquiry>(Table::Inquiries, "")?
            .into_iter()
            .map(|(_, i)| i)
            .collect();
        all.sort_by(|a, b| b.submitted_at.cmp(&a.submitted_at).then(a.id.cmp(&b.id)));
        Ok(all)
    }

    /// A user's inquiries, newest first; Org Admin sees the organization's *(replica)*.
    pub fn list_inquiries(&self, actor: &Actor) -> Result<Vec<Inquiry>> {
        let org_role = self.require_org_member(actor)?;
        let uid = actor.user_id().unwrap_or_default();
        Ok(self
            .all_inquiries()?
            .into_iter()
            .filter(|i| org_role == Some(OrgRole::Admin) || i.submitted_by == uid)
            .collect())
    }

    /// The ID of the pending deletion request for a project, if there is one.
    fn open_deletion_request(&self, project_id: &str) -> Result<Option<String>> {
        Ok(self
            .all_inquiries()?
            .into_iter()
            .find(|i| {
                i.state == InquiryState::Pending
                    && i.detail_type == PROJECT_DELETION
                    && i.project_id.as_deref() == Some(project_id)
            })
            .map(|i| i.id))
    }

    /// The Help Desk operator's queue: every inquiry, private ones included.
    pub fn helpdesk_queue(&self, actor: &Actor) -> Result<Vec<Inquiry>> {
        self.guard(actor, "helpdesk.list", "", || require_operator(actor))?;
        self.all_inquiries()
    }

    /// The operator approves an inquiry; a project deletion request deletes the project and
    /// everything in it, permanently (rule 8).
    pub fn approve_inquiry(&self, actor: &Actor, inquiry_id: &str) -> Result<Inquiry> {
        self.resolve_inquiry(actor, inquiry_id, InquiryState::Approved)
    }

    pub fn reject_inquiry(&self, actor: &Actor, inquiry_id: &str) -> Result<Inquiry> {
        self.resolve_inquiry(actor, inquiry_id, InquiryState::Rejected)
    }

    fn resolve_inquiry(&self, actor: &Actor, inquiry_id: &str, state: InquiryState) -> Result<Inquiry> {
        let now = self.now();
        let action = match state {
            InquiryState::Approved => "helpdesk.approve",
            _ => "helpdesk.reject",
        };
        self.bound_inputs(
            actor,
            action,
            &[("inquiry ID", inquiry_id, validate::ID_INPUT_MAX)],
        )?;
        // A deletion's cascade needs what is in the project, read before the transaction.
        let contents = || -> Result<ProjectContents> {
            let inquiry: Option<Inquiry> = self.store.get(Table::Inquiries, inquiry_id)?;
            match inquiry.and_then(|i| i.project_id) {
                Some(project_id) if state == InquiryState::Approved => self.project_contents(&project_id),
                _ => Ok(ProjectContents::default()),
            }
        };
        self.change_with(actor, action, inquiry_id, contents, |tx, contents| {
            require_operator(actor)?;
            let mut inquiry: Inquiry = tx
                .get(Table::Inquiries, inquiry_id)?
                .ok_or_else(|| Error::NotFound(format!("no inquiry with ID {inquiry_id}")))?;
            if inquiry.state != InquiryState::Pending {
                return Err(Error::Conflict(
                    format!("inquiry {inquiry_id} was already {:?}", inquiry.state).to_lowercase(),
                )
                .into());
            }
            if state == InquiryState::Approved && inquiry.detail_type == PROJECT_DELETION {
                let project_id = inquiry.project_id.clone().unwrap_or_default();
                if tx
                    .get::<super::Project, _>(Table::Projects, &project_id)?
                    .is_none()
                {
                    return Err(Error::Conflict(format!(
                        "project {} no longer exists; reject this request instead",
                        inquiry.project_name.clone().unwrap_or_default()
                    ))
                    .into());
                }
                self.purge_project(tx, &project_id, contents)?;
            }
            inquiry.state = state;
            inquiry.resolved_at = Some(now);
            tx.put(Table::Inquiries, inquiry_id, &inquiry)?;
            Ok(inquiry)
        })
    }
}
