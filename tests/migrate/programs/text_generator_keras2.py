# A Keras 2 character-level text generator (keraslab's own test corpus). TEXT_PATH is set by the test.
import numpy as np
from keras.models import Sequential
from keras.layers.core import Dense, Activation
from keras.layers.recurrent import LSTM
from keras.optimizers import RMSprop

text = open(TEXT_PATH, encoding='utf-8').read()[:3000].lower()
chars = sorted(set(text))
index = {c: i for i, c in enumerate(chars)}
window, step = 20, 3
starts = range(0, len(text) - window, step)
X = np.zeros((len(starts), window, len(chars)), dtype=bool)
Y = np.zeros((len(starts), len(chars)), dtype=bool)
for row, start in enumerate(starts):
    for t, c in enumerate(text[start:start + window]):
        X[row, t, index[c]] = 1
    Y[row, index[text[start + window]]] = 1

model = Sequential()
model.add(LSTM(16, input_shape=(window, len(chars))))
model.add(Dense(len(chars)))
model.add(Activation('softmax'))
model.compile(loss='categorical_crossentropy', optimizer=RMSprop(lr=0.01))
model.fit(X, Y, batch_size=64, nb_epoch=1, verbose=0)

rng = np.random.RandomState(0)
seed = text[:window]
generated = ''
for _ in range(10):
    x = np.zeros((1, window, len(chars)))
    for t, c in enumerate(seed):
        x[0, t, index[c]] = 1
    p = model.predict(x, verbose=0)[0].astype('float64')
    c = chars[rng.choice(len(chars), p=p / p.sum())]
    generated += c
    seed = seed[1:] + c
