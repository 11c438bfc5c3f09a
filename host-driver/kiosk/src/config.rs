//! The kiosk's settings file (TOML). Every field has a working default, so
//! an empty file — or none — runs a kiosk: the reader on the USB link, the
//! first PC/SC reader, the models where `models::models_dir` looks, the
//! upstream on loopback, the files under `/var/lib/mynareader`.
//! `mynareader kiosk --print-config` writes the effective settings.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use myna_face::PadMode;
use myna_link_host::LinkAddress;
use myna_reception::{GraceRule, ReceptionConfig};

/// Why the settings could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// Not valid TOML, or a field of the wrong kind.
    #[error("{path}: {source}")]
    Parse {
        /// The file.
        path: String,
        /// What and where.
        source: Box<toml::de::Error>,
    },
    /// A value out of its range.
    #[error("{field}: {why}")]
    Value {
        /// Which setting.
        field: &'static str,
        /// What is wrong.
        why: String,
    },
}

/// The reader.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReaderSettings {
    /// The link: `usb` (the only reader attached), `usb:SERIAL`, or `tcp:HOST:PORT`
    /// (reader-sim).
    pub link: String,
    /// Screen language: `ja` or `en`.
    pub language: String,
    /// Voice guidance: the reader speaks each screen (nothing personal is
    /// ever said). On by default: a patient who cannot see the screen
    /// cannot find a switch.
    pub voice: bool,
    /// Voice volume, 0–100.
    pub volume: u8,
}

impl Default for ReaderSettings {
    fn default() -> Self {
        ReaderSettings {
            link: "usb".into(),
            language: "ja".into(),
            voice: true,
            volume: 70,
        }
    }
}

/// The card.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CardSettings {
    /// The PC/SC reader whose name contains this; empty: the first one.
    pub pcsc_reader: String,
}

/// The face path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FaceConfig {
    /// Offer face recognition at all (off: PIN and 目視 only).
    pub enabled: bool,
    /// The models folder; empty: `MYNAREADER_MODELS`, `../shared/models`,
    /// `~/.local/share/mynareader/models`.
    pub models: String,
    /// Presentation-attack detection: `enforce`, the only value a kiosk
    /// takes (`report` and `off` are for `mynareader face` evaluation).
    pub pad: String,
    /// No longer read: the card front is read with text models from the
    /// models folder, not learnt from fonts. Accepted so that settings
    /// written for earlier versions still load.
    pub fonts: Vec<String>,
    /// A second face in the camera counts as a second person (「お一人で…」)
    /// when its size is at least this percentage of the patient's; a carer
    /// behind the patient is smaller. 1–100.
    pub second_face_percent: u8,
}

impl Default for FaceConfig {
    fn default() -> Self {
        FaceConfig {
            enabled: true,
            models: String::new(),
            pad: "enforce".into(),
            fonts: Vec::new(),
            second_face_percent: (myna_face::quality::DEFAULT_SECOND_FACE_SIZE * 100.0).round()
                as u8,
        }
    }
}

/// The upstream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UpstreamSettings {
    /// Base URL.
    pub url: String,
    /// PEM CA certificates to trust for `https://` (empty: none).
    pub ca: String,
    /// PEM client certificate and key for mutual TLS (empty: none).
    pub client_identity: String,
    /// Seconds the verify request may take before the patient is sent to
    /// staff (UPSTREAM.md: about 10).
    pub verify_deadline_secs: u64,
    /// Days a finished message's row (its delivery log: id, kind, times,
    /// the upstream's receipt; never the answer) is kept, 1–365.
    pub keep_days: u16,
}

impl Default for UpstreamSettings {
    fn default() -> Self {
        UpstreamSettings {
            url: "http://127.0.0.1:8700".into(),
            ca: String::new(),
            client_identity: String::new(),
            verify_deadline_secs: 10,
            keep_days: 7,
        }
    }
}

/// The kiosk's own files.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KioskFiles {
    /// The outbox database.
    pub database: String,
    /// The device key (`mynareader device init` makes it).
    pub device_key: String,
    /// The control socket for staff tools and `mynareader kiosk status`.
    pub control: String,
}

impl Default for KioskFiles {
    fn default() -> Self {
        KioskFiles {
            database: "/var/lib/mynareader/kiosk.db".into(),
            device_key: "/var/lib/mynareader/device.key".into(),
            control: "/run/mynareader/kiosk.sock".into(),
        }
    }
}

/// The staff console.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ConsoleSettings {
    /// Where the console listens: an address and port; empty: no console.
    /// Beyond loopback only with TLS (`tls_cert`, `tls_key`).
    pub listen: String,
    /// Host names the console also answers to (the name staff type; a name
    /// the reception PC maps to loopback); `localhost`, `127.0.0.1`,
    /// `[::1]` and the listen address always work.
    pub hosts: Vec<String>,
    /// PEM certificate chain for HTTPS (empty: plain HTTP, loopback only).
    pub tls_cert: String,
    /// Its PEM private key (owner-only file).
    pub tls_key: String,
}

impl Default for ConsoleSettings {
    fn default() -> Self {
        ConsoleSettings {
            listen: "127.0.0.1:8750".into(),
            hosts: Vec::new(),
            tls_cert: String::new(),
            tls_key: String::new(),
        }
    }
}

impl ConsoleSettings {
    /// Whether the console is served over TLS.
    pub fn tls(&self) -> bool {
        !self.tls_cert.is_empty()
    }

    /// The host names it answers to beside loopback's: the configured ones
    /// and the listen address itself.
    pub fn host_names(&self) -> Vec<String> {
        let mut names = self.hosts.clone();
        if let Some(at) = self
            .listen
            .parse::<std::net::SocketAddr>()
            .ok()
            .filter(|at| !at.ip().is_unspecified())
        {
            names.push(match at.ip() {
                std::net::IpAddr::V4(ip) => ip.to_string(),
                std::net::IpAddr::V6(ip) => format!("[{ip}]"),
            });
        }
        names
    }
}

/// The reception rules that are settings (spec facts marked unconfirmed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RuleSettings {
    /// The grace after expiry: `end-of-third-month` or `three-months`.
    pub grace: String,
    /// Mark 特定疾病 as provided by the flow.
    pub specific_disease_by_flow: bool,
    /// Seconds a 目視 switched on with no card placed stays armed before it
    /// is withdrawn (and audited as expired), 30–3600.
    pub visual_check_expiry_secs: u32,
}

impl Default for RuleSettings {
    fn default() -> Self {
        RuleSettings {
            grace: "end-of-third-month".into(),
            specific_disease_by_flow: false,
            visual_check_expiry_secs: 300,
        }
    }
}

/// Everything in the settings file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KioskConfig {
    /// The reader.
    pub reader: ReaderSettings,
    /// The card.
    pub card: CardSettings,
    /// Face and card front.
    pub face: FaceConfig,
    /// The upstream.
    pub upstream: UpstreamSettings,
    /// The kiosk's files.
    pub files: KioskFiles,
    /// The rules.
    pub rules: RuleSettings,
    /// The staff console.
    pub console: ConsoleSettings,
}

impl KioskConfig {
    /// Parses settings text (`path` only names it in errors).
    pub fn parse(text: &str, path: &str) -> Result<KioskConfig, ConfigError> {
        let config: KioskConfig = toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: path.into(),
            source: Box::new(e),
        })?;
        config.check()?;
        Ok(config)
    }

    /// Reads the settings file; `None`: the defaults.
    pub fn load(path: Option<&Path>) -> Result<KioskConfig, ConfigError> {
        match path {
            None => Ok(KioskConfig::default()),
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                    path: path.display().to_string(),
                    source,
                })?;
                KioskConfig::parse(&text, &path.display().to_string())
            }
        }
    }

    /// The settings as TOML.
    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).unwrap_or_default()
    }

    fn check(&self) -> Result<(), ConfigError> {
        self.link()?;
        self.pad()?;
        self.quality()?;
        self.reception()?;
        if !matches!(self.reader.language.as_str(), "ja" | "en") {
            return Err(ConfigError::Value {
                field: "reader.language",
                why: format!("{:?} is not ja or en", self.reader.language),
            });
        }
        if self.reader.volume > 100 {
            return Err(ConfigError::Value {
                field: "reader.volume",
                why: format!("{} is not 0 to 100", self.reader.volume),
            });
        }
        if self.console.tls_cert.is_empty() != self.console.tls_key.is_empty() {
            return Err(ConfigError::Value {
                field: "console.tls_key",
                why: "tls_cert and tls_key go together".into(),
            });
        }
        if !self.console.listen.is_empty() {
            let Ok(at) = self.console.listen.parse::<std::net::SocketAddr>() else {
                return Err(ConfigError::Value {
                    field: "console.listen",
                    why: format!(
                        "{:?} is not an address and port (like 127.0.0.1:8750)",
                        self.console.listen
                    ),
                });
            };
            if !at.ip().is_loopback() && !self.console.tls() {
                return Err(ConfigError::Value {
                    field: "console.listen",
                    why: format!(
                        "{:?} is not loopback: beyond this machine the console needs TLS (set console.tls_cert and console.tls_key), or listen on 127.0.0.1",
                        self.console.listen
                    ),
                });
            }
        }
        if let Some(bad) = self.console.hosts.iter().find(|h| {
            h.is_empty()
                || !h
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-.[]:".contains(&b))
        }) {
            return Err(ConfigError::Value {
                field: "console.hosts",
                why: format!("{bad:?} is not a host name"),
            });
        }
        if !(1..=365).contains(&self.upstream.keep_days) {
            return Err(ConfigError::Value {
                field: "upstream.keep_days",
                why: format!("{} is not 1 to 365", self.upstream.keep_days),
            });
        }
        if !(1..=120).contains(&self.upstream.verify_deadline_secs) {
            return Err(ConfigError::Value {
                field: "upstream.verify_deadline_secs",
                why: "between 1 and 120".into(),
            });
        }
        Ok(())
    }

    /// The reader's link address.
    pub fn link(&self) -> Result<LinkAddress, ConfigError> {
        self.reader
            .link
            .parse()
            .map_err(
                |e: myna_link_host::address::BadAddress| ConfigError::Value {
                    field: "reader.link",
                    why: e.to_string(),
                },
            )
    }

    /// PAD's mode.
    pub fn pad(&self) -> Result<PadMode, ConfigError> {
        match self.face.pad.as_str() {
            "enforce" => Ok(PadMode::Enforce),
            // A kiosk that matched photos would be worse than none: the
            // weaker modes exist for evaluation on the command line only.
            "off" | "report" => Err(ConfigError::Value {
                field: "face.pad",
                why: format!(
                    "{:?}: a kiosk always enforces presentation-attack detection (\"report\" and \"off\" are for `mynareader face` evaluation)",
                    self.face.pad
                ),
            }),
            other => Err(ConfigError::Value {
                field: "face.pad",
                why: format!("{other:?} is not enforce"),
            }),
        }
    }

    /// The face gate's limits ([`myna_face::quality::QualityLimits`]).
    pub fn quality(&self) -> Result<myna_face::quality::QualityLimits, ConfigError> {
        let percent = self.face.second_face_percent;
        if !(1..=100).contains(&percent) {
            return Err(ConfigError::Value {
                field: "face.second_face_percent",
                why: format!("{percent} is not 1 to 100"),
            });
        }
        Ok(myna_face::quality::QualityLimits {
            second_face_size: f32::from(percent) / 100.0,
            ..Default::default()
        })
    }

    /// The reception rules.
    pub fn reception(&self) -> Result<ReceptionConfig, ConfigError> {
        let grace = match self.rules.grace.as_str() {
            "end-of-third-month" => GraceRule::EndOfThirdMonth,
            "three-months" => GraceRule::ThreeCalendarMonths,
            other => {
                return Err(ConfigError::Value {
                    field: "rules.grace",
                    why: format!("{other:?} is not end-of-third-month or three-months"),
                })
            }
        };
        let expiry = self.rules.visual_check_expiry_secs;
        if !(30..=3600).contains(&expiry) {
            return Err(ConfigError::Value {
                field: "rules.visual_check_expiry_secs",
                why: format!("{expiry} is not 30 to 3600"),
            });
        }
        Ok(ReceptionConfig {
            grace,
            specific_disease_by_flow: self.rules.specific_disease_by_flow,
            visual_check_expiry: time::Duration::seconds(i64::from(expiry)),
            ..ReceptionConfig::default()
        })
    }

    /// How long finished outbox rows are kept.
    pub fn keep_finished(&self) -> Duration {
        Duration::from_secs(u64::from(self.upstream.keep_days) * 24 * 60 * 60)
    }

    /// The verify deadline.
    pub fn verify_deadline(&self) -> Duration {
        Duration::from_secs(self.upstream.verify_deadline_secs)
    }

    /// A path setting, `None` when empty.
    pub fn path(value: &str) -> Option<PathBuf> {
        (!value.is_empty()).then(|| PathBuf::from(value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_file_is_the_defaults_and_they_round_trip() {
        let config = KioskConfig::parse("", "empty").expect("defaults");
        assert_eq!(config, KioskConfig::default());
        let again = KioskConfig::parse(&config.to_toml(), "printed").expect("round trip");
        assert_eq!(again, config);
        assert_eq!(config.verify_deadline(), Duration::from_secs(10));
    }

    #[test]
    fn fields_are_read_and_bad_values_are_refused_with_their_name() {
        let config = KioskConfig::parse(
            "[reader]\nlink = \"tcp:127.0.0.1:7700\"\n[rules]\ngrace = \"three-months\"\n",
            "k.toml",
        )
        .expect("parses");
        assert!(matches!(config.link(), Ok(LinkAddress::Tcp(_))));
        assert_eq!(
            config.reception().expect("rules").grace,
            GraceRule::ThreeCalendarMonths
        );
        // The carer share reaches the face gate.
        let carer = KioskConfig::parse("[face]\nsecond_face_percent = 55\n", "k.toml")
            .expect("parses")
            .quality()
            .expect("in range");
        assert!((carer.second_face_size - 0.55).abs() < 1e-6);
        assert!(
            (KioskConfig::default()
                .quality()
                .expect("defaults")
                .second_face_size
                - myna_face::quality::DEFAULT_SECOND_FACE_SIZE)
                .abs()
                < 1e-6
        );
        for (text, field) in [
            ("[face]\npad = \"maybe\"\n", "face.pad"),
            ("[face]\npad = \"report\"\n", "face.pad"),
            ("[face]\npad = \"off\"\n", "face.pad"),
            (
                "[face]\nsecond_face_percent = 0\n",
                "face.second_face_percent",
            ),
            (
                "[face]\nsecond_face_percent = 101\n",
                "face.second_face_percent",
            ),
            ("[reader]\nlanguage = \"fr\"\n", "reader.language"),
            ("[reader]\nvolume = 101\n", "reader.volume"),
            ("[reader]\nlink = \"serial:1\"\n", "reader.link"),
            (
                "[upstream]\nverify_deadline_secs = 0\n",
                "upstream.verify_deadline_secs",
            ),
            ("[console]\nlisten = \"0.0.0.0:8750\"\n", "console.listen"),
            (
                "[console]\nlisten = \"0.0.0.0:8750\"\ntls_cert = \"c.pem\"\n",
                "console.tls_key",
            ),
            (
                "[console]\nlisten = \"192.168.1.5:8750\"\n",
                "console.listen",
            ),
            ("[console]\nlisten = \"kiosk:8750\"\n", "console.listen"),
            ("[console]\nhosts = [\"evil/x\"]\n", "console.hosts"),
            ("[upstream]\nkeep_days = 0\n", "upstream.keep_days"),
            (
                "[rules]\nvisual_check_expiry_secs = 5\n",
                "rules.visual_check_expiry_secs",
            ),
        ] {
            match KioskConfig::parse(text, "k.toml") {
                Err(ConfigError::Value { field: f, .. }) => assert_eq!(f, field),
                other => panic!("{text}: {other:?}"),
            }
        }
        let console = KioskConfig::parse(
            "[console]\nlisten = \"[::1]:9000\"\nhosts = [\"reception.local\"]\n[rules]\nvisual_check_expiry_secs = 120\n",
            "k.toml",
        )
        .expect("loopback v6 and a host name");
        let remote = KioskConfig::parse(
            "[console]\nlisten = \"192.168.1.5:8750\"\ntls_cert = \"c.pem\"\ntls_key = \"k.pem\"\n",
            "k.toml",
        )
        .expect("beyond loopback with TLS");
        assert_eq!(remote.console.host_names(), ["192.168.1.5"]);
        assert_eq!(
            console.reception().expect("rules").visual_check_expiry,
            time::Duration::minutes(2)
        );
        assert_eq!(
            KioskConfig::default()
                .reception()
                .expect("rules")
                .visual_check_expiry,
            time::Duration::minutes(5)
        );
        assert!(matches!(
            KioskConfig::parse("[reader]\nlinks = 1\n", "k.toml"),
            Err(ConfigError::Parse { .. })
        ));
    }
}
