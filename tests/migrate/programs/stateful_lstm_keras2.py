# A Keras 2 stateful LSTM trained one epoch at a time with a state reset (keraslab's own test corpus).
import numpy as np
from keras.models import Sequential
from keras.layers import LSTM, Dense

wave = np.sin(np.arange(68, dtype='float32') / 4)
x = np.stack([wave[i:i + 4] for i in range(64)])[:, :, None]
y = wave[4:68, None]

model = Sequential()
model.add(LSTM(8, batch_input_shape=(4, 4, 1), stateful=True, return_sequences=True))
model.add(LSTM(8, stateful=True))
model.add(Dense(1))
model.compile(loss='mse', optimizer='adam')
for epoch in range(2):
    model.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0)
    model.reset_states()

first = model.predict(x[:4], batch_size=4, verbose=0)
second = model.predict(x[:4], batch_size=4, verbose=0)  # starts from the state the first call left
model.reset_states()
third = model.predict(x[:4], batch_size=4, verbose=0)  # starts from zeros again
