//! Reading the Keras reference fixtures and comparing numbers with them.
#![allow(dead_code)]

use std::path::PathBuf;

use serde_json::Value;

/// One tensor entry of a fixture: name, shape and row-major values.
#[derive(Clone, Debug)]
pub struct Tensor {
    pub name: String,
    pub shape: Vec<usize>,
    pub values: Vec<f64>,
}

impl Tensor {
    fn from_json(v: &Value) -> Tensor {
        let shape: Vec<usize> = v["shape"]
            .as_array()
            .expect("shape")
            .iter()
            .map(|d| d.as_u64().expect("dim") as usize)
            .collect();
        let mut values = Vec::new();
        flatten(&v["values"], &mut values);
        assert_eq!(
            values.len(),
            shape.iter().product::<usize>().max(1),
            "fixture size"
        );
        Tensor {
            name: v["name"].as_str().unwrap_or_default().to_string(),
            shape,
            values,
        }
    }

    pub fn f32(&self) -> Vec<f32> {
        self.values.iter().map(|&v| v as f32).collect()
    }

    pub fn ids(&self) -> Vec<u32> {
        self.values.iter().map(|&v| v as u32).collect()
    }

    /// Rows of token ids, `(batch, time)`.
    pub fn id_rows(&self) -> Vec<Vec<u32>> {
        self.ids()
            .chunks(self.shape[1])
            .map(<[u32]>::to_vec)
            .collect()
    }
}

fn flatten(v: &Value, out: &mut Vec<f64>) {
    match v {
        Value::Array(a) => a.iter().for_each(|e| flatten(e, out)),
        Value::Number(n) => out.push(n.as_f64().expect("number")),
        Value::Bool(b) => out.push(if *b { 1.0 } else { 0.0 }),
        other => panic!("bad fixture value {other}"),
    }
}

/// A fixture case file.
pub struct Case {
    pub name: String,
    pub json: Value,
}

pub fn fixture_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/keras")
}

impl Case {
    /// A case of the shared Keras fixtures.
    pub fn load(name: &str) -> Case {
        Case::load_from("keras", name)
    }

    /// A case from `tests/fixtures/{set}`.
    pub fn load_from(set: &str, name: &str) -> Case {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(set);
        let path = dir.join(format!("{name}.json"));
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
        Case {
            name: name.to_string(),
            json: serde_json::from_str(&text).expect("fixture json"),
        }
    }

    fn list(&self, key: &str) -> Vec<Tensor> {
        self.json[key]
            .as_array()
            .unwrap_or_else(|| panic!("{}: no {key}", self.name))
            .iter()
            .map(Tensor::from_json)
            .collect()
    }

    pub fn input(&self) -> Tensor {
        Tensor::from_json(&self.json["input"])
    }
    pub fn mask(&self) -> Option<Tensor> {
        (!self.json["mask"].is_null()).then(|| Tensor::from_json(&self.json["mask"]))
    }
    pub fn weights(&self) -> Vec<Tensor> {
        self.list("weights")
    }
    pub fn outputs(&self) -> Vec<Tensor> {
        self.list("outputs")
    }
    pub fn loss_weights(&self) -> Vec<Tensor> {
        self.list("loss_weights")
    }
    pub fn grad_weights(&self) -> Vec<Tensor> {
        self.json["grads"]["weights"]
            .as_array()
            .expect("grads.weights")
            .iter()
            .map(Tensor::from_json)
            .collect()
    }
    pub fn grad_input(&self) -> Option<Tensor> {
        let g = &self.json["grads"]["input"];
        (!g.is_null()).then(|| Tensor::from_json(g))
    }
    pub fn weight_values(&self) -> Vec<Vec<f32>> {
        self.weights().iter().map(Tensor::f32).collect()
    }
}

/// Asserts `|got - want| <= atol + rtol * |want|` element-wise, reporting the worst element.
pub fn assert_close(what: &str, got: &[f32], want: &[f64], atol: f64, rtol: f64) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    let mut worst = (0usize, 0.0f64);
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        let excess = (g as f64 - w).abs() - (atol + rtol * w.abs());
        if excess > worst.1 || (i == 0 && excess > 0.0) {
            worst = (i, excess);
        }
    }
    let (i, excess) = worst;
    assert!(
        excess <= 0.0,
        "{what}: element {i}: got {}, want {} (tolerance {atol} + {rtol}*|want|)",
        got[i],
        want[i]
    );
}

/// Output tolerance for f32 against the float64 references (fixtures README).
pub const OUT_ATOL: f64 = 1e-6;
pub const OUT_RTOL: f64 = 1e-5;
/// Gradient tolerance.
pub const GRAD_ATOL: f64 = 1e-5;
pub const GRAD_RTOL: f64 = 1e-4;
