//! Help Desk: the user's inquiries (the organization's, for Org Admin) with their state, each
//! one's detail (every field, its history and its ID), and the inquiry form, which "Request
//! deletion" on IAM › Projects opens pre-filled: Detailed type is a choice of the model's
//! categories (Service › Project deletion for a deletion request), Attachment a file path read
//! here, as the CLI's `--attachment` is.

use std::collections::BTreeMap;

use super::{date, detail, nothing_selected, offer, subject, Component, Ctx, Offer, Reply, Screen};
use std::path::Path;

use crate::console::inquiries::{
    detailed_types, InquiryDraft, InquiryKind, InquiryState, DETAILED_TYPES, PROJECT_DELETION,
};
use crate::console::{validate, Attachment, Inquiry};
use crate::tui::keymap::Action;
use crate::tui::msg::{Command, Data, Query};
use crate::tui::popups::Popup;
use crate::tui::widgets::form::{Field, Form, Request};
use crate::tui::widgets::table::{col, time, Column, Table, TableNav};

/// An inquiry with its submitter's email (or ID, when the user is gone).
pub struct Row {
    inquiry: Inquiry,
    submitter: String,
}

fn state(s: InquiryState) -> &'static str {
    match s {
        InquiryState::Pending => "Pending",
        InquiryState::Approved => "Approved",
        InquiryState::Rejected => "Rejected",
    }
}

fn kind(k: InquiryKind) -> &'static str {
    match k {
        InquiryKind::General => "General",
        InquiryKind::Technical => "Technical",
    }
}

const COLUMNS: &[Column<Row>] = &[
    col("TITLE", 10, 0, |r| r.inquiry.title.clone()),
    col("TYPE", 7, 3, |r| kind(r.inquiry.kind).into()),
    col("DETAILED TYPE", 8, 1, |r| r.inquiry.detail_type.clone()),
    col("PROJECT", 7, 2, |r| {
        r.inquiry.project_name.clone().unwrap_or_default()
    }),
    col("STATE", 8, 0, |r| state(r.inquiry.state).into()),
    time("SUBMITTED AT", 10, 4, |r| r.inquiry.submitted_at),
    col("ID", 8, 5, |r| r.inquiry.id.clone()),
];

pub struct HelpDesk {
    table: Table<Row>,
    asked: Option<Query>,
}

impl Default for HelpDesk {
    fn default() -> HelpDesk {
        HelpDesk {
            table: Table::new(COLUMNS, |r| r.inquiry.id.clone()),
            asked: None,
        }
    }
}

fn inquiry_kind(f: &Form) -> InquiryKind {
    InquiryKind::parse(f.value("Inquiry type")).unwrap_or(InquiryKind::General)
}

/// The Detailed type choice offers the categories of the chosen inquiry type.
fn follow_kind(f: &mut Form) {
    let options = detailed_types(inquiry_kind(f)).map(|d| d.label()).collect();
    if let Some(field) = f.field_mut("Detailed type") {
        field.set_options(options);
    }
}

/// A path that names no readable file is the field's own error, before anything is sent.
fn attachment_rule(v: &str) -> crate::console::Result<()> {
    if v.is_empty() {
        return Ok(());
    }
    Attachment::from_file(Path::new(v)).map(drop)
}

fn submit_inquiry(f: &mut Form) -> Result<Request, String> {
    let kind = inquiry_kind(f);
    let label = f.value("Detailed type");
    let detail = DETAILED_TYPES
        .iter()
        .find(|d| d.kind == kind && d.label() == label)
        .ok_or("choose a detailed type")?;
    let project = f.value("Project name").to_string();
    let path = f.value("Attachment (optional)");
    let attachment = if path.is_empty() {
        None
    } else {
        Some(Attachment::from_file(Path::new(path)).map_err(|e| e.message().to_string())?)
    };
    Ok(Request::Run(Command::SubmitInquiry(InquiryDraft {
        kind,
        detail_type: detail.sub_type.into(),
        project: (!project.is_empty()).then_some(project),
        title: f.value("Title").into(),
        details: f.value("Inquiry details").into(),
        private: f.value("Private") == "yes",
        attachment,
    })))
}

/// The Help Desk form; "Request deletion" opens it pre-filled for `project`.
pub fn inquiry_form(project: Option<&str>) -> Form {
    let draft = project.map(InquiryDraft::project_deletion);
    let (kind, detail, title) = match &draft {
        Some(d) => (
            "Technical",
            format!("Service › {}", d.detail_type),
            d.title.as_str(),
        ),
        None => ("General", String::new(), ""),
    };
    let mut form = Form::new(
        if project.is_some() {
            "Request project deletion"
        } else {
            "Submit Inquiry"
        },
        "Submit",
        submit_inquiry,
        vec![
            Field::choice("Inquiry type", ["General", "Technical"]).with_value(kind),
            Field::choice("Detailed type", Vec::<String>::new()),
            Field::text("Project name", validate::PROJECT_NAME_MAX, |v| {
                validate::text("project name", v, validate::PROJECT_NAME_MAX, false)
            })
            .with_value(project.unwrap_or_default()),
            Field::text("Title", validate::INQUIRY_TITLE_MAX, |v| {
                validate::text("title", v, validate::INQUIRY_TITLE_MAX, true)
            })
            .with_value(title),
            Field::text("Inquiry details", validate::INQUIRY_DETAILS_MAX, |v| {
                if v.chars().count() > validate::INQUIRY_DETAILS_MAX {
                    validate::text("details", v, validate::INQUIRY_DETAILS_MAX, false)
                } else {
                    Ok(())
                }
            }),
            Field::choice("Private", ["no", "yes"]),
            Field::text("Attachment (optional)", validate::PATH_INPUT_MAX, attachment_rule),
        ],
    )
    .with_on_edit(follow_kind);
    if let Some(field) = form.field_mut("Detailed type") {
        *field = field.clone().with_value(&detail);
    }
    if let Some(project) = project {
        form.intro = vec![
            format!("Detailed type \"{PROJECT_DELETION}\" under Service, for project {project}."),
            "When approved, the project and everything in it are deleted permanently.".into(),
        ];
        form.focus = 4;
        form = form.about(project.to_string(), project.to_string());
    }
    form
}

impl Component for HelpDesk {
    fn screen(&self) -> Screen {
        Screen::HelpDesk
    }

    fn request(&mut self, _ctx: &Ctx) -> Option<Query> {
        self.table.set_loading();
        self.asked = Some(Query::Inquiries);
        self.asked.clone()
    }

    fn loaded(&mut self, query: &Query, result: Result<Data, String>, ctx: &Ctx) -> bool {
        if self.asked.as_ref() != Some(query) {
            return false;
        }
        match result {
            Ok(Data::Inquiries(inquiries, submitters)) => {
                let submitters: BTreeMap<String, String> = submitters;
                let rows = inquiries
                    .into_iter()
                    .map(|inquiry| Row {
                        submitter: submitters
                            .get(&inquiry.submitted_by)
                            .cloned()
                            .unwrap_or_else(|| format!("user {} (removed)", inquiry.submitted_by)),
                        inquiry,
                    })
                    .collect();
                self.table.set_rows(rows, ctx.dates);
            }
            Ok(_) => self
                .table
                .fail("the console received the wrong kind of data".into()),
            Err(message) => self.table.fail(message),
        }
        true
    }

    fn offer(&self, action: Action, _ctx: &Ctx) -> Option<Offer> {
        Some(match action {
            Action::Create => offer("Submit Inquiry"),
            Action::Open | Action::Detail => offer("details").on_row(),
            Action::Copy => offer("copy ID").on_row(),
            _ => return None,
        })
    }

    fn act(&mut self, action: Action, _ctx: &Ctx) -> Reply {
        match action {
            Action::Create => Reply::Popup(Popup::Form(inquiry_form(None))),
            Action::Copy => match self.table.selected_row() {
                Some(r) => Reply::Copy {
                    text: r.inquiry.id.clone(),
                    what: "the inquiry ID".into(),
                },
                None => nothing_selected(),
            },
            _ => Reply::Nothing,
        }
    }

    fn table(&self) -> Option<&dyn TableNav> {
        Some(&self.table)
    }

    fn table_mut(&mut self) -> Option<&mut dyn TableNav> {
        Some(&mut self.table)
    }

    fn detail(&self, ctx: &Ctx) -> Option<Popup> {
        let r = self.table.selected_row()?;
        let i = &r.inquiry;
        let mut history = vec![format!(
            "{} submitted by {}",
            date(ctx.dates, &i.submitted_at),
            r.submitter
        )];
        match (i.state, i.resolved_at) {
            (InquiryState::Pending, _) => history.push("waiting for the Help Desk".into()),
            (s, Some(at)) => history.push(format!(
                "{} {} by the Help Desk",
                date(ctx.dates, &at),
                state(s).to_lowercase()
            )),
            (s, None) => history.push(format!("{} by the Help Desk", state(s).to_lowercase())),
        }
        Some(detail(
            ctx,
            &format!("Inquiry {}", i.title),
            Some(subject(&i.id, &i.title)),
            vec![
                ("Inquiry ID", i.id.clone()),
                ("State", state(i.state).into()),
                ("Inquiry type", kind(i.kind).into()),
                ("Detailed type", i.detail_type.clone()),
                ("Project name", i.project_name.clone().unwrap_or_default()),
                ("Project ID", i.project_id.clone().unwrap_or_default()),
                ("Title", i.title.clone()),
                ("Inquiry details", i.details.clone()),
                ("Private", if i.private { "yes".into() } else { "no".into() }),
                (
                    "Attachment",
                    i.attachment
                        .as_ref()
                        .map(|a| format!("{} ({} bytes)", a.name, a.size))
                        .unwrap_or_default(),
                ),
                ("Submitted by", r.submitter.clone()),
                ("History", history.join(" · ")),
            ],
        ))
    }
}
