//! Collects the errors of one expansion and reports them all at once (serde's `Ctxt`).

use std::cell::RefCell;
use std::fmt::Display;

use quote::ToTokens;

/// The errors found so far. Shared by reference, so that nested parsers can report into it.
///
/// It must end in [`Ctxt::check`] or [`Ctxt::finish`]: one dropped unchecked would lose its
/// errors, so its `Drop` panics (a bug of this crate, caught by any test that reaches it).
pub(crate) struct Ctxt {
    /// `None` once checked.
    errors: RefCell<Option<Vec<syn::Error>>>,
}

impl Default for Ctxt {
    fn default() -> Self {
        Ctxt {
            errors: RefCell::new(Some(Vec::new())),
        }
    }
}

impl Ctxt {
    /// An error spanned on `tokens`: the user's token the message is about.
    pub(crate) fn error_spanned_by(&self, tokens: impl ToTokens, message: impl Display) {
        self.syn_error(syn::Error::new_spanned(tokens, message));
    }

    /// An error already built, e.g. by a parser.
    pub(crate) fn syn_error(&self, error: syn::Error) {
        if let Some(errors) = self.errors.borrow_mut().as_mut() {
            errors.push(error);
        }
    }

    /// `Ok` when nothing was reported, else every error, combined in the order reported.
    pub(crate) fn check(self) -> syn::Result<()> {
        let errors = self.errors.borrow_mut().take().unwrap_or_default();
        let mut errors = errors.into_iter();
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

impl Drop for Ctxt {
    fn drop(&mut self) {
        if !std::thread::panicking() && self.errors.get_mut().is_some() {
            panic!("opper-macros: an error collector was dropped without being checked");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Ctxt;

    #[test]
    fn check_reports_every_error_in_order() {
        let cx = Ctxt::default();
        cx.error_spanned_by(quote::quote!(a), "first");
        cx.error_spanned_by(quote::quote!(b), "second");
        let messages: Vec<String> = cx
            .check()
            .unwrap_err()
            .into_iter()
            .map(|e| e.to_string())
            .collect();
        assert_eq!(messages, ["first", "second"]);
    }

    #[test]
    #[should_panic(expected = "dropped without being checked")]
    fn an_unchecked_collector_panics_when_dropped() {
        let cx = Ctxt::default();
        cx.error_spanned_by(quote::quote!(a), "lost");
        drop(cx);
    }
}
