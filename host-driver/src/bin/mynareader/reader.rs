//! `mynareader reader …`: talking to a reader (or `reader-sim`) over the
//! link, for technicians: who it is (`info`) and what a screen looks like
//! on it (`show`). Each run opens its own session, as a restarted kiosk
//! would. Owns the sample parameters each screen is shown with.

use clap::Subcommand;
use myna_link::samples::SCREENS;
use myna_link::Language;
use myna_link_host::{self as link, LinkAddress, ReaderLink, ReaderLinkError};

use crate::hint::{Failure, Hint};

/// The `reader` command group.
#[derive(Debug, Subcommand)]
pub enum ReaderCommand {
    /// Print the reader's firmware version, boot id and this session.
    Info {
        /// tcp:HOST:PORT (reader-sim) or usb[:SERIAL].
        #[arg(long)]
        link: LinkAddress,
        /// One JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Show one patient screen with sample parameters, then exit.
    Show {
        /// The screen, as the golden screenshots name it (`--list`).
        #[arg(required_unless_present = "list")]
        screen: Option<String>,
        /// tcp:HOST:PORT (reader-sim) or usb[:SERIAL].
        #[arg(long, required_unless_present = "list")]
        link: Option<LinkAddress>,
        /// Draw it in this language.
        #[arg(long, value_parser = ["ja", "en"])]
        lang: Option<String>,
        /// With the 目視確認モード banner.
        #[arg(long)]
        visual_check: bool,
        /// List the screens.
        #[arg(long)]
        list: bool,
    },
}

/// Runs a `reader` command.
pub fn run(command: ReaderCommand) -> Result<(), Failure> {
    match command {
        ReaderCommand::Info { link, json } => info(&link, json),
        ReaderCommand::Show { list: true, .. } => {
            for (name, _) in SCREENS {
                println!("{name}");
            }
            Ok(())
        }
        ReaderCommand::Show {
            screen,
            link,
            lang,
            visual_check,
            list: false,
        } => {
            let (Some(name), Some(link)) = (screen, link) else {
                return Err(Failure::new("give a SCREEN and --link").hint(Hint::ReaderShowList));
            };
            show(&name, &link, lang.as_deref(), visual_check)
        }
    }
}

pub(crate) fn open(
    address: &LinkAddress,
) -> Result<ReaderLink<Box<dyn link::FrameTransport>>, Failure> {
    let transport = link::connect(address).map_err(|e| {
        let hint = match address {
            LinkAddress::Tcp(_) => Hint::StartReaderSim,
            LinkAddress::Usb { .. } => Hint::ConnectUsbReader,
        };
        Failure::new(error_chain(&e)).hint(hint)
    })?;
    // A fresh random session for each run (the randomness is passed in).
    ReaderLink::open(transport, rand::random::<u32>).map_err(|e| link_failure(address, &e))
}

pub(crate) fn link_failure(address: &LinkAddress, e: &ReaderLinkError) -> Failure {
    Failure::new(format!("{address}: {}", error_chain(e))).hint(Hint::ReaderAnswers)
}

/// `error: cause: cause`, so a person sees why, not only what.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

fn info(address: &LinkAddress, json: bool) -> Result<(), Failure> {
    let link = open(address)?;
    let info = link.info();
    if json {
        let value = serde_json::json!({
            "link": address.to_string(),
            "firmware": info.firmware,
            "slot": if info.slot == 0 { "A" } else { "B" },
            "boot_id": format!("{:08x}", info.boot_id),
            "session": format!("{:08x}", info.session),
            "display": { "width": info.width, "height": info.height },
        });
        println!("{value}");
    } else {
        println!("reader    {address}");
        println!(
            "firmware  {} (slot {})",
            info.firmware,
            if info.slot == 0 { "A" } else { "B" }
        );
        println!("boot id   {:08x}", info.boot_id);
        println!("session   {:08x}", info.session);
        println!("display   {}×{}", info.width, info.height);
    }
    Ok(())
}

fn show(
    name: &str,
    address: &LinkAddress,
    lang: Option<&str>,
    visual_check: bool,
) -> Result<(), Failure> {
    let Some((_, screen)) = SCREENS.iter().find(|(n, _)| *n == name) else {
        return Err(Failure::new(format!("no screen called {name:?}")).hint(Hint::ReaderShowList));
    };
    let mut link = open(address)?;
    if let Some(lang) = lang {
        let language = if lang == "en" {
            Language::English
        } else {
            Language::Japanese
        };
        link.set_language(language)
            .map_err(|e| link_failure(address, &e))?;
    }
    link.show(screen.clone(), visual_check)
        .map_err(|e| link_failure(address, &e))?;
    // Returns once the reader has drawn it (or refused it).
    link.sync().map_err(|e| link_failure(address, &e))?;
    println!("{name} shown on {address}");
    Ok(())
}
