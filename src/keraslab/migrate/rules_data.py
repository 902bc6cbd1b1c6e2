"""Rules on data code: the image generator, ``Sequence`` subclasses, backend casts, dataset loaders."""

from __future__ import annotations

import libcst as cst
import libcst.matchers as m

from keraslab.migrate.base import Rule, keyword_arg, positional_args

__all__ = ["DATA_RULES", "SEQUENCE_RULES", "ImageAugmenterArgsRule", "SequenceInitRule", "CastToFloatxRule",
           "LoadDatasetRule"]

# ImageDataGenerator arguments that ImageAugmenter takes with the same meaning.
AUGMENTER_ARGUMENTS = frozenset({
    "rotation_range", "width_shift_range", "height_shift_range", "zoom_range", "shear_range", "horizontal_flip",
    "vertical_flip", "fill_mode", "cval", "rescale", "featurewise_center", "samplewise_center",
    "featurewise_std_normalization", "samplewise_std_normalization", "zca_whitening", "zca_epsilon",
})
_AUGMENTER_FIXES = {
    "brightness_range": "add keras.layers.RandomBrightness to the model, or adjust batches in a PyDataset",
    "channel_shift_range": "shift channels in a PyDataset wrapping the flow, or drop the argument",
    "preprocessing_function": "apply the function to each batch in a PyDataset that wraps augmenter.flow(...)",
    "data_format": "keep images channels-last (n, h, w, c), as ImageAugmenter expects",
    "validation_split": "split the arrays first (sklearn.model_selection.train_test_split) and flow each part",
    "dtype": "cast the batches yourself; ImageAugmenter keeps the input dtype (float32 when standardising)",
}


class ImageAugmenterArgsRule(Rule):
    """Reports the ``ImageDataGenerator`` arguments that ``ImageAugmenter`` does not take."""

    name = "image-data-generator"
    summary = "`ImageDataGenerator(...)` -> `ImageAugmenter(...)`, same keywords; the others reported"

    def leave_Call(self, original: cst.Call, updated: cst.Call):
        if self.canonical(original.func) != "keraslab.data.ImageAugmenter":
            return updated
        if positional_args(original):
            self.report(original, "ImageDataGenerator called with positional arguments",
                        "ImageAugmenter's positional order differs from ImageDataGenerator's",
                        "pass every argument by keyword")
        for arg in original.args:
            keyword = arg.keyword.value if arg.keyword is not None else None
            if keyword is not None and keyword not in AUGMENTER_ARGUMENTS:
                self.report(arg, f"ImageDataGenerator({keyword}=...) has no ImageAugmenter equivalent",
                            "keraslab implements the affine transforms and standardisation only",
                            _AUGMENTER_FIXES.get(keyword, "remove the argument or transform the batches yourself"))
        return updated


class SequenceInitRule(Rule):
    """``Sequence`` subclasses: ``__init__`` accepts ``**kwargs`` and calls ``super().__init__(**kwargs)``."""

    name = "sequence-pydataset"
    summary = "`Sequence` subclasses call `super().__init__(**kwargs)` (Keras 3's PyDataset needs it)"

    def leave_ClassDef(self, original: cst.ClassDef, updated: cst.ClassDef):
        if not any(self.canonical(base.value) == "keras.utils.PyDataset" for base in original.bases):
            return updated
        body = list(updated.body.body)
        for index, statement in enumerate(body):
            if isinstance(statement, cst.FunctionDef) and statement.name.value == "__init__":
                if _calls_super_init(statement):
                    return updated
                body[index] = self._with_super_init(statement)
                self.changed(original, f"class {original.name.value}: super().__init__(**kwargs) added")
                return updated.with_changes(body=updated.body.with_changes(body=body))
        return updated

    def _with_super_init(self, function: cst.FunctionDef) -> cst.FunctionDef:
        params = function.params
        kwargs_name = "kwargs"
        if isinstance(params.star_kwarg, cst.Param):
            kwargs_name = params.star_kwarg.name.value
        else:
            params = params.with_changes(star_kwarg=cst.Param(name=cst.Name("kwargs"), star="**"))
        call = cst.parse_statement(f"super().__init__(**{kwargs_name})\n")
        statements = list(function.body.body)
        position = 1 if statements and m.matches(
            statements[0], m.SimpleStatementLine(body=[m.Expr(value=m.SimpleString() | m.ConcatenatedString())])
        ) else 0
        statements.insert(position, call)
        return function.with_changes(params=params, body=function.body.with_changes(body=statements))


def _calls_super_init(function: cst.FunctionDef) -> bool:
    found = m.findall(function, m.Call(func=m.Attribute(attr=m.Name("__init__"))))
    return bool(found)


class CastToFloatxRule(Rule):
    """``K.cast_to_floatx(x)`` -> ``np.asarray(x, dtype=K.floatx())``."""

    name = "cast-to-floatx"
    summary = "`keras.backend.cast_to_floatx(x)` -> `np.asarray(x, dtype=keras.backend.floatx())`"

    def leave_Call(self, original: cst.Call, updated: cst.Call):
        if self.canonical(original.func) != "keras.backend.cast_to_floatx" or len(original.args) != 1:
            return updated
        if isinstance(updated.func, cst.Attribute):
            floatx = cst.Call(func=updated.func.with_changes(attr=cst.Name("floatx")))
        else:
            self.need_import("keras")
            floatx = cst.parse_expression("keras.config.floatx()")
        numpy = self.numpy()
        self.changed(original, "cast_to_floatx -> numpy.asarray")
        return cst.Call(
            func=cst.parse_expression(f"{numpy}.asarray"),
            args=[updated.args[0].with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))),
                  keyword_arg("dtype", floatx)],
        )


_LOADERS = {"keras.datasets.mnist.load_data": "load_mnist", "keras.datasets.fashion_mnist.load_data": "load_fashion_mnist"}


class LoadDatasetRule(Rule):
    """``mnist.load_data()`` -> ``keraslab.data.load_mnist()`` (finds local copies before downloading)."""

    name = "load-mnist"
    summary = ("`mnist.load_data()` / `fashion_mnist.load_data()` -> `keraslab.data.load_mnist()` / "
               "`load_fashion_mnist()`: same arrays, looked up in `$KERASLAB_DATA` and the Keras cache before "
               "a checksummed download")

    def leave_Call(self, original: cst.Call, updated: cst.Call):
        loader = _LOADERS.get(self.canonical(original.func) or "")
        if loader is None:
            return updated
        if original.args:
            self.report(original, f"{loader.replace('load_', '')}.load_data(...) with arguments left as it is",
                        "its path is relative to the Keras cache, keraslab's is a plain file path",
                        f"call keraslab.data.{loader}(path=...) with the file's full path")
            return updated
        self.need_import("keraslab.data", loader)
        self.changed(original, f"load_data() -> {loader}()")
        return cst.Call(func=cst.Name(loader))


DATA_RULES = [ImageAugmenterArgsRule, CastToFloatxRule, LoadDatasetRule]
SEQUENCE_RULES = [SequenceInitRule]
