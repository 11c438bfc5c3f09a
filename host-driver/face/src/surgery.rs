//! Model surgery at load time, on the ONNX graph before tract reads it:
//! rewrites that keep a model's function exactly and make tract's plan
//! cheaper.
//!
//! tract expands `PRelu(x, s)` into three passes over the tensor (compare,
//! multiply, select), which took half of `mobilefacenet-paddle-128`'s time.
//! `Max(x, x·s)` is the same function wherever `s ≤ 1`, in two passes.
//! Where some channels have `s > 1` (the Paddle export has them in every
//! PRelu), those channels' signs are folded into the convolutions on both
//! sides first: the producing convolution computes `−x` for them, and
//! `Max(−x, −x·s)` is then `−PRelu(x)`, which the consuming convolution
//! turns back by negating its weights for that input channel. Negation is
//! exact in floating point, so the outputs are bit for bit the same.

use tract_onnx::pb::{GraphProto, NodeProto};

/// The values of a float32 initializer, if `name` is one.
fn initializer_f32(graph: &GraphProto, name: &str) -> Option<Vec<f32>> {
    let t = graph.initializer.iter().find(|t| t.name == name)?;
    if t.data_type != tract_onnx::pb::tensor_proto::DataType::Float as i32 {
        return None;
    }
    if !t.float_data.is_empty() {
        return Some(t.float_data.clone());
    }
    if t.raw_data.len() % 4 != 0 {
        return None;
    }
    Some(
        t.raw_data
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect(),
    )
}

/// Replaces a float32 initializer's values (same count, stored raw).
fn set_initializer_f32(graph: &mut GraphProto, name: &str, values: &[f32]) {
    if let Some(t) = graph.initializer.iter_mut().find(|t| t.name == name) {
        t.float_data.clear();
        t.raw_data = values.iter().flat_map(|v| v.to_le_bytes()).collect();
    }
}

/// The dimensions of an initializer.
fn initializer_dims(graph: &GraphProto, name: &str) -> Option<Vec<usize>> {
    let t = graph.initializer.iter().find(|t| t.name == name)?;
    t.dims.iter().map(|d| usize::try_from(*d).ok()).collect()
}

/// How many node inputs name `value`.
fn uses(graph: &GraphProto, value: &str) -> usize {
    graph
        .node
        .iter()
        .flat_map(|n| n.input.iter())
        .filter(|i| *i == value)
        .count()
}

fn is_graph_output(graph: &GraphProto, value: &str) -> bool {
    graph.output.iter().any(|o| o.name == value)
}

fn group(node: &NodeProto) -> usize {
    node.attribute
        .iter()
        .find(|a| a.name == "group")
        .and_then(|a| usize::try_from(a.i).ok())
        .unwrap_or(1)
}

/// A convolution whose weights (and bias) are initializers used by it alone.
fn own_weights(graph: &GraphProto, conv: &NodeProto) -> bool {
    conv.op_type == "Conv"
        && conv.input.len() >= 2
        && conv.input[1..]
            .iter()
            .all(|w| w.is_empty() || (initializer_f32(graph, w).is_some() && uses(graph, w) == 1))
}

/// Folds the sign of the channels of `prelu` whose slope is above 1 into
/// the convolution that produces its input and the ones that consume its
/// output (see the module docs). Checks everything before changing
/// anything; returns false, with the graph untouched, where the
/// neighbourhood is not one it can fold.
fn fold_signs(graph: &mut GraphProto, prelu: usize, slopes: &[f32]) -> bool {
    let (x, y) = {
        let node = &graph.node[prelu];
        (node.input[0].clone(), node.output[0].clone())
    };
    let Some(producer) = graph.node.iter().position(|n| n.output.contains(&x)) else {
        return false;
    };
    let consumers: Vec<usize> = (0..graph.node.len())
        .filter(|i| graph.node[*i].input.contains(&y))
        .collect();
    let producer_node = &graph.node[producer];
    if !own_weights(graph, producer_node)
        || uses(graph, &x) != 1
        || is_graph_output(graph, &x)
        || is_graph_output(graph, &y)
        || consumers.is_empty()
    {
        return false;
    }
    let Some(w_dims) = initializer_dims(graph, &producer_node.input[1]) else {
        return false;
    };
    let channels = w_dims.first().copied().unwrap_or(0);
    if channels == 0 || !(slopes.len() == channels || slopes.len() == 1) {
        return false;
    }
    let flipped: Vec<bool> = (0..channels)
        .map(|c| slopes[if slopes.len() == 1 { 0 } else { c }] > 1.0)
        .collect();
    // Each consumer: a convolution reading y as its data input only, with
    // weights [out, channels / group, ...].
    let mut plans = Vec::new();
    for &c in &consumers {
        let node = &graph.node[c];
        let groups = group(node);
        let dims = initializer_dims(graph, node.input.get(1).map_or("", String::as_str));
        let ok = own_weights(graph, node)
            && node.input[0] == y
            && node.input[1..].iter().all(|i| *i != y)
            && groups > 0
            && dims
                .as_ref()
                .is_some_and(|d| d.len() >= 2 && d[1] * groups == channels && d[0] % groups == 0);
        let Some(dims) = dims.filter(|_| ok) else {
            return false;
        };
        plans.push((node.input[1].clone(), dims, groups));
    }
    // The new values are all computed before any is written, so a check
    // that fails leaves the graph as it was.
    let mut updates: Vec<(String, Vec<f32>)> = Vec::new();
    // The producer: its output channel c (weights and bias) negated.
    let producer_node = &graph.node[producer];
    for name in producer_node.input[1..].iter().filter(|n| !n.is_empty()) {
        let Some(mut values) = initializer_f32(graph, name) else {
            return false;
        };
        if values.len() % channels != 0 {
            return false;
        }
        let per = values.len() / channels;
        for (c, chunk) in values.chunks_exact_mut(per).enumerate() {
            if flipped[c] {
                chunk.iter_mut().for_each(|v| *v = -*v);
            }
        }
        updates.push((name.clone(), values));
    }
    // Each consumer: the weights reading input channel c negated.
    for (name, dims, groups) in plans {
        let Some(mut values) = initializer_f32(graph, &name) else {
            return false;
        };
        let (outs, per_group) = (dims[0], dims[1]);
        let kernel: usize = dims[2..].iter().product();
        if values.len() != outs * per_group * kernel {
            return false;
        }
        let outs_per_group = outs / groups;
        for (c, _) in flipped.iter().enumerate().filter(|(_, f)| **f) {
            let (g, k) = (c / per_group, c % per_group);
            for o in g * outs_per_group..(g + 1) * outs_per_group {
                let at = (o * per_group + k) * kernel;
                values[at..at + kernel].iter_mut().for_each(|v| *v = -*v);
            }
        }
        updates.push((name, values));
    }
    for (name, values) in updates {
        set_initializer_f32(graph, &name, &values);
    }
    true
}

/// Rewrites every PRelu it can as `Max(x, Mul(x, s))`: directly where every
/// slope is at most 1, after [`fold_signs`] where some are above 1 and the
/// PRelu sits between convolutions. Any other PRelu is left to tract.
/// Returns the number of nodes rewritten.
pub fn prelu_as_max(proto: &mut tract_onnx::pb::ModelProto) -> usize {
    let Some(graph) = proto.graph.as_mut() else {
        return 0;
    };
    // Node by node, as folding may change the weights the next one reads.
    let rewrite: Vec<bool> = (0..graph.node.len())
        .map(|i| {
            let node = &graph.node[i];
            if node.op_type != "PRelu" || node.input.len() != 2 || node.output.len() != 1 {
                return false;
            }
            let Some(slopes) = initializer_f32(graph, &node.input[1]) else {
                return false;
            };
            if slopes.is_empty() || slopes.iter().any(|s| !s.is_finite()) {
                return false;
            }
            slopes.iter().all(|s| *s <= 1.0) || fold_signs(graph, i, &slopes)
        })
        .collect();
    let mut nodes = Vec::with_capacity(graph.node.len());
    let mut rewritten = 0;
    for (node, rewrite) in std::mem::take(&mut graph.node).into_iter().zip(rewrite) {
        if !rewrite {
            nodes.push(node);
            continue;
        }
        let scaled = format!("{}.prelu-scaled", node.output[0]);
        nodes.push(NodeProto {
            name: format!("{}.mul", node.name),
            op_type: "Mul".into(),
            input: node.input.clone(),
            output: vec![scaled.clone()],
            ..Default::default()
        });
        nodes.push(NodeProto {
            name: format!("{}.max", node.name),
            op_type: "Max".into(),
            input: vec![node.input[0].clone(), scaled],
            output: node.output.clone(),
            ..Default::default()
        });
        rewritten += 1;
    }
    graph.node = nodes;
    rewritten
}
