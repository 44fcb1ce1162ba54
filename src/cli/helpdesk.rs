//! `inquiry` (a user's Help Desk) and `helpdesk` (the simulated operator).

use std::path::PathBuf;

use clap::Subcommand;
use serde_json::{json, Value};

use super::output::{local_time, table};
use super::{Context, Output};
use crate::console::{Attachment, Error, Inquiry, InquiryKind, InquiryState, Result};
use crate::org::request::Draft;
use crate::org::Request;

#[derive(Debug, Subcommand)]
pub enum InquiryCmd {
    /// Your inquiries with their state (Org Admin: the organization's)
    List,
    /// Submit an inquiry to the Help Desk
    Submit {
        /// general or technical
        #[arg(long = "type", value_name = "TYPE")]
        kind: String,
        /// The detailed type's sub-type, as the console offers them: Account, Billing, Other
        /// (general: Customer support › …); Project deletion, Usage, Error (technical: Service › …)
        #[arg(long, value_name = "SUB-TYPE")]
        detail_type: String,
        #[arg(long)]
        project: Option<String>,
        #[arg(long)]
        title: String,
        #[arg(long)]
        details: String,
        #[arg(long)]
        private: bool,
        #[arg(long, value_name = "FILE")]
        attachment: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum HelpdeskCmd {
    /// Every inquiry in the organization
    List,
    /// Approve an inquiry; an approved project deletion deletes the project permanently
    Approve { inquiry_id: String },
    /// Reject an inquiry
    Reject { inquiry_id: String },
}

fn state_label(s: InquiryState) -> &'static str {
    match s {
        InquiryState::Pending => "Pending",
        InquiryState::Approved => "Approved",
        InquiryState::Rejected => "Rejected",
    }
}

pub(super) fn inquiry_json(i: &Inquiry) -> Value {
    json!({
        "id": i.id,
        "type": match i.kind { InquiryKind::General => "General", InquiryKind::Technical => "Technical" },
        "detail_type": i.detail_type,
        "project_name": i.project_name,
        "title": i.title,
        "details": i.details,
        "private": i.private,
        "attachment": i.attachment.as_ref().map(|a| json!({"name": a.name, "size": a.size})),
        "state": state_label(i.state),
        "submitted_at": i.submitted_at,
        "resolved_at": i.resolved_at,
    })
}

fn inquiry_table(out: Output, list: &[Inquiry]) -> Result<String> {
    out.show(Value::Array(list.iter().map(inquiry_json).collect()), || {
        let rows: Vec<Vec<String>> = list
            .iter()
            .map(|i| {
                vec![
                    i.id.clone(),
                    i.detail_type.clone(),
                    i.project_name.clone().unwrap_or_default(),
                    i.title.clone(),
                    state_label(i.state).into(),
                    local_time(&i.submitted_at),
                ]
            })
            .collect();
        table(
            &["ID", "TYPE", "PROJECT", "TITLE", "STATE", "SUBMITTED AT"],
            &rows,
        )
    })
}

pub fn inquiry(ctx: &mut Context, out: Output, cmd: InquiryCmd) -> Result<String> {
    match cmd {
        InquiryCmd::List => inquiry_table(out, &ctx.call::<Vec<Inquiry>>(Request::InquiryList)?),
        InquiryCmd::Submit {
            kind,
            detail_type,
            project,
            title,
            details,
            private,
            attachment,
        } => {
            let kind = InquiryKind::parse(&kind).ok_or_else(|| {
                Error::Invalid(format!("inquiry type {kind:?} must be general or technical"))
            })?;
            let attachment = attachment.as_deref().map(Attachment::from_file).transpose()?;
            let i: Inquiry = ctx.call(Request::InquirySubmit(Draft {
                kind,
                detail_type,
                project,
                title,
                details,
                private,
                attachment,
            }))?;
            out.show(inquiry_json(&i), || format!("Submitted inquiry {}.", i.id))
        }
    }
}

/// The operator signs in like anyone else (`--user helpdesk@kakaocloud.example` and its
/// password, or a session from `kc-console login` as the operator).
pub fn helpdesk(ctx: &mut Context, out: Output, cmd: HelpdeskCmd) -> Result<String> {
    match cmd {
        HelpdeskCmd::List => inquiry_table(out, &ctx.call::<Vec<Inquiry>>(Request::HelpdeskList)?),
        HelpdeskCmd::Approve { inquiry_id } => {
            let i: Inquiry = ctx.call(Request::HelpdeskApprove { inquiry: inquiry_id })?;
            out.show(inquiry_json(&i), || match &i.project_name {
                Some(p) if i.detail_type == crate::console::inquiries::PROJECT_DELETION => {
                    format!(
                        "Approved {}: project {p} and everything in it have been deleted.",
                        i.id
                    )
                }
                _ => format!("Approved {}.", i.id),
            })
        }
        HelpdeskCmd::Reject { inquiry_id } => {
            let i: Inquiry = ctx.call(Request::HelpdeskReject { inquiry: inquiry_id })?;
            out.show(inquiry_json(&i), || format!("Rejected {}.", i.id))
        }
    }
}
