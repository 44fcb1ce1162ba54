//! Billing › Payment methods *(replica)*: the organization's cards; Org Admin adds one (needed
//! before any project can be created).

use super::{accept, date, detail, expect, offer, subject, Component, Ctx, Offer, Reply, Screen};
use crate::console::access::Permission;
use crate::console::{validate, PaymentMethod};
use crate::tui::keymap::Action;
use crate::tui::msg::{Command, Data, Query};
use crate::tui::popups::Popup;
use crate::tui::widgets::form::{Field, Form, Request};
use crate::tui::widgets::table::{col, time, Column, Table, TableNav};

const COLUMNS: &[Column<PaymentMethod>] = &[
    col("BRAND", 6, 0, |p| p.brand.clone()),
    col("CARD", 9, 0, |p| format!("•••• {}", p.last4)),
    col("EXPIRY", 6, 0, |p| p.expiry.clone()),
    time("ADDED AT", 10, 1, |p| p.added_at),
];

pub struct Payments {
    table: Table<PaymentMethod>,
    asked: Option<Query>,
}

impl Default for Payments {
    fn default() -> Payments {
        Payments {
            table: Table::new(COLUMNS, |p| p.id.clone()),
            asked: None,
        }
    }
}

impl Component for Payments {
    fn screen(&self) -> Screen {
        Screen::Payments
    }

    fn request(&mut self, _ctx: &Ctx) -> Option<Query> {
        self.table.set_loading();
        self.asked = Some(Query::Payments);
        self.asked.clone()
    }

    fn loaded(&mut self, query: &Query, result: Result<Data, String>, ctx: &Ctx) -> bool {
        let rows = expect(result, |d| match d {
            Data::Payments(rows) => Some(rows),
            _ => None,
        });
        accept(&self.asked, query, rows, &mut self.table, ctx.dates)
    }

    fn offer(&self, action: Action, _ctx: &Ctx) -> Option<Offer> {
        Some(match action {
            Action::Create => offer("Add payment method").needs(Permission::ManageBilling),
            Action::Open | Action::Detail => offer("details").on_row(),
            _ => return None,
        })
    }

    fn act(&mut self, action: Action, _ctx: &Ctx) -> Reply {
        match action {
            Action::Create => Reply::Popup(Popup::Form(Form::new(
                "Add payment method",
                "Add",
                |f| {
                    Ok(Request::Run(Command::AddPayment {
                        brand: f.value("Card brand").into(),
                        last4: f.value("Last four digits").into(),
                        expiry: f.value("Expiry (MM/YY)").into(),
                    }))
                },
                vec![
                    Field::text("Card brand", 20, |v| validate::text("card brand", v, 20, true)),
                    Field::text("Last four digits", 4, validate::card_last4),
                    Field::text("Expiry (MM/YY)", 5, |v| validate::card_expiry(v).map(|_| ())),
                ],
            ))),
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
        let p = self.table.selected_row()?;
        Some(detail(
            ctx,
            &format!("{} •••• {}", p.brand, p.last4),
            Some(subject(&p.id, &p.brand)),
            vec![
                ("Card brand", p.brand.clone()),
                ("Card", format!("•••• {}", p.last4)),
                ("Expiry", p.expiry.clone()),
                ("Payment method ID", p.id.clone()),
                ("Added at", date(ctx.dates, &p.added_at)),
            ],
        ))
    }
}
