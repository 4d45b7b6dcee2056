//! Keras' layer names: each class's default name, numbered `_1`, `_2`, ... for later layers of
//! the same class, unless the user chose a name.

use std::collections::HashMap;

use rnn_spec::LayerClass;

use crate::ir::{Layer, LayerKind};

/// The next automatic name of each class.
#[derive(Default)]
pub struct Names {
    counts: HashMap<LayerClass, usize>,
}

impl Names {
    /// `lstm`, then `lstm_1`, `lstm_2`, ...
    pub fn next(&mut self, class: LayerClass) -> String {
        let n = self.counts.entry(class).or_insert(0);
        let name = if *n == 0 {
            class.default_name().to_string()
        } else {
            format!("{}_{}", class.default_name(), n)
        };
        *n += 1;
        name
    }

    /// Names a checked layer and the layer it wraps, given the names the user chose. Keras
    /// numbers only the layers the user did not name, and a wrapped layer takes the next
    /// number of its own class, after its wrapper's.
    pub fn assign(&mut self, layer: &mut Layer, custom: Option<String>, inner: Option<String>) {
        layer.name = custom.unwrap_or_else(|| self.next(layer.class));
        let (inner_class, inner_name) = match &mut layer.kind {
            LayerKind::Bidirectional(bi) => (bi.inner.cell.cell().layer(), &mut bi.inner_name),
            LayerKind::TimeDistributed { dense_name, .. } => (LayerClass::Dense, dense_name),
            _ => return,
        };
        *inner_name = inner.unwrap_or_else(|| self.next(inner_class));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_per_class() {
        let mut names = Names::default();
        let got: Vec<String> = [
            LayerClass::Lstm,
            LayerClass::Dense,
            LayerClass::Lstm,
            LayerClass::GlobalAveragePooling1D,
            LayerClass::Lstm,
        ]
        .into_iter()
        .map(|c| names.next(c))
        .collect();
        assert_eq!(
            got,
            [
                "lstm",
                "dense",
                "lstm_1",
                "global_average_pooling1d",
                "lstm_2"
            ]
        );
    }
}
