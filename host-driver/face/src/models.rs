//! Model weights: where they are, that they are the files the manifest names
//! (sha256 checked before use), and their optimisation by tract, once, at
//! start-up.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Deserialize;
use tract_onnx::prelude::*;

/// The manifest committed in `models/manifest.json`.
const MANIFEST: &str = include_str!("../../../models/manifest.json");

/// One model of the manifest.
#[derive(Debug, Clone, Deserialize)]
pub struct ModelEntry {
    /// Short name.
    pub name: String,
    /// detector, recogniser or pad.
    pub role: String,
    /// production or evaluation.
    #[serde(rename = "use")]
    pub usage: String,
    /// File name in the models folder.
    pub file: String,
    /// Expected sha256, hex.
    pub sha256: String,
    /// Expected size in bytes.
    pub size: u64,
    /// Licence summary.
    pub licence: String,
}

#[derive(Deserialize)]
struct Manifest {
    models: Vec<ModelEntry>,
}

/// Errors finding, checking or loading a model.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// The manifest does not name this model.
    #[error("model {0:?} is not in models/manifest.json")]
    Unknown(String),
    /// The file is not there.
    #[error("model file {path} is missing (run models/fetch, or set --models)")]
    Missing {
        /// Where it was looked for.
        path: String,
    },
    /// The file is not the one the manifest names.
    #[error("model file {path} does not match the manifest: sha256 {actual}, expected {expected}")]
    Mismatch {
        /// The file.
        path: String,
        /// Manifest sha256.
        expected: String,
        /// File sha256.
        actual: String,
    },
    /// tract could not load or optimise it.
    #[error("model {name} cannot be loaded: {reason}")]
    Load {
        /// The model.
        name: String,
        /// tract's error.
        reason: String,
    },
    /// Running it failed.
    #[error("model {name} failed: {reason}")]
    Run {
        /// The model.
        name: String,
        /// tract's error.
        reason: String,
    },
}

/// The manifest entries.
pub fn manifest() -> Vec<ModelEntry> {
    // The manifest is compiled in; a test parses it, so this cannot fail in
    // a build that passed its tests.
    serde_json::from_str::<Manifest>(MANIFEST)
        .map(|m| m.models)
        .unwrap_or_default()
}

/// A manifest entry by name.
pub fn entry(name: &str) -> Result<ModelEntry, ModelError> {
    manifest()
        .into_iter()
        .find(|m| m.name == name)
        .ok_or_else(|| ModelError::Unknown(name.to_string()))
}

/// Where the weights are: the explicit setting, else `MYNAREADER_MODELS`,
/// else `../shared/models` when present, else the fetch script's folder.
pub fn models_dir(setting: Option<&Path>) -> PathBuf {
    if let Some(dir) = setting {
        return dir.to_path_buf();
    }
    if let Some(dir) = std::env::var_os("MYNAREADER_MODELS") {
        return PathBuf::from(dir);
    }
    for candidate in [
        "../shared/models",
        "../../shared/models",
        "../../../shared/models",
    ] {
        let path = Path::new(candidate);
        if path.join("MODELS.md").exists() {
            return path.to_path_buf();
        }
    }
    let data = std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
        .unwrap_or_else(|| PathBuf::from("."));
    data.join("mynareader/models")
}

/// Reads a model file and checks its sha256 against the manifest.
pub fn read_verified(dir: &Path, entry: &ModelEntry) -> Result<Vec<u8>, ModelError> {
    let path = dir.join(&entry.file);
    let bytes = std::fs::read(&path).map_err(|_| ModelError::Missing {
        path: path.display().to_string(),
    })?;
    let actual = hex::encode(ring::digest::digest(&ring::digest::SHA256, &bytes));
    if actual != entry.sha256 {
        return Err(ModelError::Mismatch {
            path: path.display().to_string(),
            expected: entry.sha256.clone(),
            actual,
        });
    }
    Ok(bytes)
}

/// How tract runs the models: the same for every model of an engine.
#[derive(Debug, Clone, Default)]
pub struct Tuning {
    /// Matrix products on this many threads; 0 or 1: the calling thread only.
    pub threads: usize,
    executor: Option<tract_onnx::prelude::multithread::Executor>,
}

impl Tuning {
    /// One pool of `threads` shared by every model loaded with it.
    pub fn with_threads(threads: usize) -> Tuning {
        Tuning {
            threads,
            executor: (threads > 1)
                .then(|| tract_onnx::prelude::multithread::Executor::multithread(threads)),
        }
    }
}

/// The time one node of a model took in one run (see [`Runnable::profile`]).
#[derive(Debug, Clone)]
pub struct NodeTime {
    /// Node name in the optimised graph.
    pub node: String,
    /// Operator, as tract names it.
    pub op: String,
    /// Time spent.
    pub time: std::time::Duration,
}

/// An optimised, runnable model with its output names.
pub struct Runnable {
    name: String,
    plan: Arc<TypedRunnableModel>,
    outputs: Vec<String>,
}

impl Runnable {
    /// Loads ONNX bytes with a fixed input shape and optimises them once.
    pub fn from_onnx(
        name: &str,
        bytes: &[u8],
        input_shape: &[usize],
    ) -> Result<Runnable, ModelError> {
        Runnable::from_onnx_tuned(name, bytes, input_shape, &Tuning::default())
    }

    /// [`Runnable::from_onnx`] with a thread pool.
    pub fn from_onnx_tuned(
        name: &str,
        bytes: &[u8],
        input_shape: &[usize],
        tuning: &Tuning,
    ) -> Result<Runnable, ModelError> {
        let load = |e: TractError| ModelError::Load {
            name: name.to_string(),
            reason: format!("{e:#}"),
        };
        // Shapes recorded inside the graph (value_info, output shapes) pin
        // YuNet to 640×640; the convolutions themselves work at any size, so
        // let tract infer them from the input we give.
        let onnx = tract_onnx::onnx()
            .with_ignore_value_info(true)
            .with_ignore_output_shapes(true);
        let mut proto = onnx
            .proto_model_for_read(&mut std::io::Cursor::new(bytes))
            .map_err(load)?;
        super::surgery::prelu_as_max(&mut proto);
        let model = onnx
            .model_for_proto_model(&proto)
            .map_err(load)?
            .with_input_fact(0, f32::fact(input_shape).into())
            .map_err(load)?
            .into_optimized()
            .map_err(load)?;
        let outputs = model
            .output_outlets()
            .map_err(load)?
            .iter()
            .map(|o| {
                model
                    .outlet_label(*o)
                    .map(str::to_string)
                    .unwrap_or_else(|| model.node(o.node).name.clone())
            })
            .collect();
        let options = RunOptions {
            executor: tuning.executor.clone(),
            ..RunOptions::default()
        };
        Ok(Runnable {
            name: name.to_string(),
            plan: model.into_runnable_with_options(&options).map_err(load)?,
            outputs,
        })
    }

    /// Reads, verifies and loads a manifest model from `dir`, tuned.
    pub fn load_tuned(
        dir: &Path,
        name: &str,
        input_shape: &[usize],
        tuning: &Tuning,
    ) -> Result<Runnable, ModelError> {
        let entry = entry(name)?;
        let bytes = read_verified(dir, &entry)?;
        Runnable::from_onnx_tuned(name, &bytes, input_shape, tuning)
    }

    /// One run with every node of the optimised graph timed, in execution
    /// order (for `cargo bench --bench face -- --layers`).
    pub fn profile(&self, shape: &[usize], data: &[f32]) -> Result<Vec<NodeTime>, ModelError> {
        let fail = |e: TractError| ModelError::Run {
            name: self.name.clone(),
            reason: format!("{e:#}"),
        };
        let input = Tensor::from_shape(shape, data).map_err(fail)?;
        let mut state = TypedSimpleState::new(&self.plan).map_err(fail)?;
        let mut times = Vec::new();
        state
            .run_plan_with_eval(tvec!(input.into_tvalue()), |ctx, op_state, node, inputs| {
                let start = std::time::Instant::now();
                let out = tract_onnx::tract_core::plan::eval(ctx, op_state, node, inputs);
                times.push(NodeTime {
                    node: node.name.clone(),
                    op: node.op().name().to_string(),
                    time: start.elapsed(),
                });
                out
            })
            .map_err(fail)?;
        Ok(times)
    }

    /// Reads, verifies and loads a manifest model from `dir`.
    pub fn load(dir: &Path, name: &str, input_shape: &[usize]) -> Result<Runnable, ModelError> {
        Runnable::load_tuned(dir, name, input_shape, &Tuning::default())
    }

    /// Output names, in order.
    pub fn output_names(&self) -> &[String] {
        &self.outputs
    }

    /// Runs on one NCHW f32 input; returns each output flattened. The caller
    /// keeps the input in a zeroizing buffer; tract's own copy and its
    /// intermediate tensors are freed, not wiped (tract offers no hook).
    pub fn run(&self, shape: &[usize], data: &[f32]) -> Result<Vec<Vec<f32>>, ModelError> {
        let fail = |e: TractError| ModelError::Run {
            name: self.name.clone(),
            reason: format!("{e:#}"),
        };
        let input = Tensor::from_shape(shape, data).map_err(fail)?;
        let outputs = self.plan.run(tvec!(input.into_tvalue())).map_err(fail)?;
        outputs
            .iter()
            .map(|t| {
                Ok(t.to_plain_array_view::<f32>()
                    .map_err(fail)?
                    .iter()
                    .copied()
                    .collect())
            })
            .collect()
    }
}
