//! Collects the errors of one expansion and reports them all at once (serde's `Ctxt`).

use std::cell::RefCell;
use std::fmt::Display;

use quote::ToTokens;

/// The errors found so far. Shared by reference, so that nested parsers can report into it.
#[derive(Default)]
pub(crate) struct Ctxt {
    errors: RefCell<Vec<syn::Error>>,
}

impl Ctxt {
    /// An error spanned on `tokens`: the user's token the message is about.
    pub(crate) fn error_spanned_by(&self, tokens: impl ToTokens, message: impl Display) {
        self.errors
            .borrow_mut()
            .push(syn::Error::new_spanned(tokens, message));
    }

    /// An error already built, e.g. by a parser.
    pub(crate) fn syn_error(&self, error: syn::Error) {
        self.errors.borrow_mut().push(error);
    }

    /// `Ok` when nothing was reported, else every error, combined in the order reported.
    pub(crate) fn check(self) -> syn::Result<()> {
        let mut errors = self.errors.into_inner().into_iter();
        let Some(mut combined) = errors.next() else {
            return Ok(());
        };
        for error in errors {
            combined.combine(error);
        }
        Err(combined)
    }

    /// `value` when nothing was reported, else every error. A check that fails reports why and
    /// gives `None`; a `None` without a report would be a bug of this crate, and is an error
    /// that says so rather than a panic.
    pub(crate) fn finish<T>(self, value: Option<T>) -> syn::Result<T> {
        self.check()?;
        value.ok_or_else(|| {
            syn::Error::new(
                proc_macro2::Span::call_site(),
                "opper-macros failed without saying why: please report this bug",
            )
        })
    }
}
